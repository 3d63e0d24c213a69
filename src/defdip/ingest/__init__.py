"""Reading the sources and building the store: one module per dataset, the parallel loader, record flattening,
cross-source matching, the genealogy and user records, downloads, and the atomic build with its guards.
"""
