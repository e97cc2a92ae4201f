"""Photometric catalogues: one schema for mock and real data.

``table`` (Catalog, read/write with masks and metadata; a galaxy's row and truths by id),
``ingest`` (a user's CSV/Parquet/FITS photometry through the ``catalog:`` config block into
that schema), ``units`` (maggies, Jy units, AB/Vega magnitudes, extinction, sentinels),
``mock`` (mock catalogues drawn from the priors).
"""
