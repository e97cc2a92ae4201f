"""Inference backends: pure-JAX ``run_<name>(key, logdensity_fn, data, init_fn, opts)``.

See :mod:`sedjax.inference.backends._common` for the contract and
:mod:`sedjax.inference.backends.registry` for the name -> (run, Opts) table.
"""

from ._common import Kinks, LinearAmplitude, Target
from .auto import AutoOpts, run_auto
from .importance import ISOpts, run_is
from .laplace import LaplaceOpts, run_laplace
from .map import MAPOpts, run_map
from .ns import NSOpts, run_ns
from .nuts import NUTSOpts, run_nuts
from .pathfinder import PathfinderOpts, run_pathfinder
from .vi import VIOpts, run_vi

__all__ = [
    "Kinks",
    "LinearAmplitude",
    "Target",
    "MAPOpts",
    "run_map",
    "LaplaceOpts",
    "run_laplace",
    "PathfinderOpts",
    "run_pathfinder",
    "NUTSOpts",
    "run_nuts",
    "VIOpts",
    "run_vi",
    "NSOpts",
    "run_ns",
    "ISOpts",
    "run_is",
    "AutoOpts",
    "run_auto",
]
