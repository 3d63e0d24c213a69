"""Reading the sources: one module per dataset, the parallel loader, record flattening, cross-source matching, the
genealogy and downloads.
"""
