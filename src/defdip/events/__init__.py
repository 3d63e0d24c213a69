"""Machine-coded event data (GDELT, ICEWS, POLECAT) coded to the defdip codebook.

Events stay columnar (Arrow tables and partitioned parquet); only aggregates reach the store.
"""
