"""The DuckDB store: the atomic build, its guards, and the read layer every later stage queries.
"""
