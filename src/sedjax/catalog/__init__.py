"""Photometric catalogues: one schema for mock and real data.

``table`` (Catalog, read/write with masks and metadata; a galaxy's row and truths by id),
``mock`` (mock catalogues drawn from the priors).
"""
