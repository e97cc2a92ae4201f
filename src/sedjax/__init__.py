"""sedjax: galaxy SED fitting in JAX.

One forward model (SSP grid x star-formation history x dust x cosmology x filters),
jit/grad/vmap-safe, feeding every inference backend.

Subpackages (one concept each): ``physics`` (cosmology, SFH, dust, IGM, SSP weights),
``photometry`` (filters, band integration), ``ssp`` (grids, sources, nebular emission),
``model`` (the forward model, parameters, priors, config), ``catalog`` (photometric
catalogues and mocks), ``inference`` (log-posterior, backends, diagnostics), ``fitting``
(single and batched fits), ``analysis`` (calibration, summaries, PPC, gradient fields),
``bench`` (benchmarks), ``io`` (atomic writes, JSON, provenance, JAX runtime) and
``plotting`` (figures and report; imports no JAX).

Importing sedjax turns on JAX float64 (``jax_enable_x64``) without importing JAX: the
forward model runs in float64 by default; float32 is selected per model
(``SEDModel(..., dtype="float32")``). The top-level names below are imported lazily, so
``import sedjax.plotting`` does not load JAX.
"""

import importlib as _importlib
import os as _os
import sys as _sys

if "jax" in _sys.modules:
    _sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    _os.environ["JAX_ENABLE_X64"] = "1"  # read by JAX when it is first imported

# JAX's persistent compilation cache on for library use, so a new process fitting a model it
# has fitted before loads its programs instead of compiling them (sedjax.io.runtime:
# location, opt-out with SEDJAX_COMPILATION_CACHE=0, what invalidates it)
from sedjax.io.runtime import enable_library_cache as _enable_library_cache  # noqa: E402

_enable_library_cache(_sys.modules["jax"].config if "jax" in _sys.modules else None)

__version__ = "0.1.0"

_PUBLIC = {
    "DERIVED_NAMES": "sedjax.model.names",
    "SEDModel": "sedjax.model.sed_model",
    "Parameters": "sedjax.model.params",
    "Fixed": "sedjax.model.priors",
    "LogUniform": "sedjax.model.priors",
    "Normal": "sedjax.model.priors",
    "Uniform": "sedjax.model.priors",
    "SSPData": "sedjax.ssp.grid",
    "load_ssp": "sedjax.ssp.grid",
    "load_filters": "sedjax.photometry.filters",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(_importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'sedjax' has no attribute {name!r}")
