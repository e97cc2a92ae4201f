"""Inference layer: pure-JAX backends plus Python drivers, diagnostics and results.

Backend contract (every backend)::

    run_<name>(key, logdensity_fn, data, init_fn, opts) -> dict[str, Array]

with ``logdensity_fn(u, data)`` the unconstrained-space log posterior,
``init_fn(key) -> (d,)`` a prior draw in u space and ``opts`` a frozen dataclass.
``run_ns`` additionally takes keyword-only ``logprior_fn`` / ``loglik_fn``; ``run_is``,
``run_auto`` and ``run_nuts`` (whitened warm-up) take the MAP stage as ``mode_fn``.
:class:`Target` bundles the callables; :func:`run_backend` /
:func:`run_backend_batch` drive any backend by name.

Modules: ``posterior`` (the one log posterior, whitened residuals, targets), ``collapse``
(the posterior with the SFH normalisation integrated out), ``library``
(prior library of MAP starts, closed-form amplitude), ``psis`` (Pareto-smoothed importance
sampling: k-hat, ESS), ``diagnostics`` (R-hat, ESS), ``status`` (fit-status policy),
``result`` (FitResult), ``photoz`` (p(z) on a grid, its modes), ``backends/`` (map + ``lm`` (Levenberg–Marquardt), laplace,
pathfinder, nuts (+ ``whmc``, the whitened warm-up and ChEES-HMC, and ``nuts_draws``, both warm-ups' sampling phase), vi, ns, ``importance`` (is; ``mixture_is``: one t per redshift mode, ``importance_weights``), ``auto``
(IS triage then ChEES- or NUTS-HMC in whitened coordinates), ``gaussian`` (mode refinement, Laplace Gaussian, t proposal),
registry).
"""

from .backends import (
    AutoOpts,
    ISOpts,
    LaplaceOpts,
    MAPOpts,
    NSOpts,
    NUTSOpts,
    PathfinderOpts,
    Target,
    VIOpts,
    run_auto,
    run_is,
    run_laplace,
    run_map,
    run_ns,
    run_nuts,
    run_pathfinder,
    run_vi,
)
from .backends.registry import (
    BACKENDS,
    OPTIMIZED_COMPILE,
    QUICK_COMPILE,
    bind,
    bind_stages,
    drive_single_fit,
    iterations,
    make_opts,
    run_backend,
    run_backend_batch,
    single_fit_fns,
)
from .diagnostics import ess_basic, ess_bulk, split_rhat
from .psis import K_HAT_MAX, psis
from .status import assess_status, fit_status
from .result import FitResult

__all__ = [
    "AutoOpts",
    "BACKENDS",
    "FitResult",
    "ISOpts",
    "K_HAT_MAX",
    "OPTIMIZED_COMPILE",
    "QUICK_COMPILE",
    "LaplaceOpts",
    "MAPOpts",
    "NSOpts",
    "NUTSOpts",
    "PathfinderOpts",
    "Target",
    "VIOpts",
    "assess_status",
    "bind",
    "bind_stages",
    "drive_single_fit",
    "ess_basic",
    "ess_bulk",
    "fit_status",
    "iterations",
    "make_opts",
    "psis",
    "run_backend",
    "run_auto",
    "run_backend_batch",
    "run_is",
    "run_laplace",
    "run_map",
    "run_ns",
    "run_nuts",
    "run_pathfinder",
    "run_vi",
    "single_fit_fns",
    "split_rhat",
]
