"""Fitting galaxies: one galaxy (``Fitter``, ``fit``) or a catalogue vmapped in chunks (``fit_batch``).

``fitter`` (Fitter: one model and backend, compiled programs kept; fit_info), ``single``
(fit, a thin wrapper over a bounded cache of Fitters; fit_cache_info, clear_fit_cache),
``inputs`` (validated per-galaxy arrays, keys), ``chunks`` (the one place for chunk bounds),
``program`` (the compiled chunk program, the conversion of draws), ``batch_result``
(BatchResult and its HDF5 layout), ``batch`` (the fit_batch driver), ``goodness`` (χ²).

The names below are imported lazily (``from sedjax.fitting import Fitter, fit``).
"""

import importlib as _importlib

_PUBLIC = {
    "Fitter": "sedjax.fitting.fitter",
    "fit": "sedjax.fitting.single",
    "fit_cache_info": "sedjax.fitting.single",
    "clear_fit_cache": "sedjax.fitting.single",
    "fit_batch": "sedjax.fitting.batch",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(_importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'sedjax.fitting' has no attribute {name!r}")
