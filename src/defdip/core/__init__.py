"""Foundations every stage shares: configuration, errors, dates, the codebook, the actor registry, record models and
citations. Imports nothing else from the package.
"""
