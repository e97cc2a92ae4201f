"""Fitting galaxies: one galaxy (``single.fit``) or a catalogue vmapped in chunks.

``single`` (fit, fit_info), ``inputs`` (validated per-galaxy arrays, keys), ``chunks`` (the
one place for chunk bounds), ``program`` (the compiled chunk program), ``batch_result``
(BatchResult and its HDF5 layout), ``batch`` (the fit_batch driver).
"""
