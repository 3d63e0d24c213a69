"""The read layer over the DuckDB store: one read-only handle and the named queries every later stage asks
(records, aggregates, validation). The only package that writes SQL over the record tables; it imports only the
core, so that the build (``defdip.ingest.build``) and every analysis can use it.
"""
