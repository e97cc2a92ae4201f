"""sedjax: galaxy SED fitting in JAX.

One forward model (SSP grid x star-formation history x dust x cosmology x filters),
jit/grad/vmap-safe, feeding every inference backend.

Importing sedjax enables JAX float64 (``jax_enable_x64``): the forward model runs in
float64 by default; float32 is selected per model (``SEDModel(..., dtype="float32")``).
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from sedjax.photometry.filters import load_filters  # noqa: E402
from sedjax.model.sed_model import DERIVED_NAMES, SEDModel  # noqa: E402
from sedjax.model.params import Parameters  # noqa: E402
from sedjax.model.priors import Fixed, LogUniform, Normal, Uniform  # noqa: E402
from sedjax.ssp.grid import SSPData, load_ssp  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DERIVED_NAMES",
    "Fixed",
    "LogUniform",
    "Normal",
    "Parameters",
    "SEDModel",
    "SSPData",
    "Uniform",
    "load_filters",
    "load_ssp",
]
