"""``fit``: one galaxy, one backend, one call -> FitResult (physical samples, derived, status)."""

from __future__ import annotations

import jax
import numpy as np

from sedjax.fitting.goodness import make_chi2_fn
from sedjax.fitting.inputs import check_redshifts, warn_metallicity_range
from sedjax.inference import QUICK_COMPILE, FitResult, make_opts, run_backend
from sedjax.inference.diagnostics import quantity_convergence
from sedjax.inference.posterior import make_data, make_target, physical_samples
from sedjax.io.provenance import package_versions


def fit_info(model, backend: str, opts, mode: str, sys_frac: float, collapse_amplitude: bool = True, **extra) -> dict:
    """Metadata stored with every fit (single or batched): what was fitted and how."""
    return {
        "backend": backend,
        "mode": mode,
        "sys_frac": sys_frac,
        "collapse_amplitude": bool(collapse_amplitude),
        "options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
        "spec": model.spec.to_config(),
        "bands": model.bands,
        **extra,
        "versions": package_versions(),
    }


def fit(model, obs: dict, backend: str, key, mode: str = "fast", sys_frac: float = 0.0, options=None, meta=None,
        collapse_amplitude: bool = True) -> FitResult:
    """Fit one galaxy's photometry with one backend.

    Parameters
    ----------
    model : SEDModel
    obs : dict with ``flux`` and ``flux_err`` (n_band,) in maggies, optional ``mask`` and
        ``redshift`` (used when the spec's redshift is fixed)
    backend : one of ``sedjax.inference.BACKENDS`` (map, laplace, pathfinder, nuts, vi, ns, is, auto)
    key : jax PRNG key (same key, same samples)
    mode : photometry mode of the likelihood ("fast" or "exact")
    sys_frac : fractional systematic error added in quadrature
    options : dict of backend option overrides (fields of the backend's Opts)
    meta : extra metadata stored with the result
    collapse_amplitude : the sampling backends (pathfinder, nuts, vi, ns) sample the
        posterior with the SFH normalisation integrated out and draw it back per sample
        (:mod:`sedjax.inference.collapse`); False: they sample the full posterior

    Returns
    -------
    FitResult with physical-unit samples of every free parameter, derived quantities per
    sample, diagnostics (with ``chi2_best``, ``chi2_pvalue``, ``n_usable_bands``: see
    :mod:`sedjax.fitting.goodness`; ``rhat_quantities_max``, ``ess_quantities_min``: see
    :func:`sedjax.inference.diagnostics.quantity_convergence`), compile/run times and status ("failed" with a reason when the
    fit is unusable). Raises ``ValueError`` when the data redshift is outside
    ``model.z_range`` or not > 0 (:func:`sedjax.fitting.inputs.check_redshifts`).
    """
    warn_metallicity_range(model)
    redshift = obs.get("redshift")
    if redshift is not None:
        gid = (meta or {}).get("galaxy_id", obs.get("id"))
        check_redshifts(model, redshift, None if gid is None else [gid])
    data = make_data(model, obs["flux"], obs["flux_err"], obs.get("mask"), redshift, model.tables_for(redshift))
    target = make_target(model, mode=mode, sys_frac=sys_frac, collapse_amplitude=collapse_amplitude)
    opts = make_opts(backend, **(options or {}))
    raw, compile_s, run_s = run_backend(backend, key, target, data, opts)
    gof = jax.jit(make_chi2_fn(model, mode, sys_frac), compiler_options=QUICK_COMPILE)(raw["samples"], data)  # chi2_best, chi2_pvalue
    raw = {**raw, **{k: np.asarray(v) for k, v in gof.items()}}
    samples, derived = physical_samples(model, raw["samples"], data["redshift"])
    conv = quantity_convergence({k: np.asarray(v)[None] for k, v in {**samples, **derived}.items()},
                                [int(np.asarray(raw.get("draw_chains", 0)))])
    raw.update({k: v[0] for k, v in conv.items()})
    info = {**fit_info(model, backend, opts, mode, sys_frac, collapse_amplitude, redshift=float(data["redshift"])), **(meta or {})}
    return FitResult.from_raw(
        backend, raw, model.spec.free_params, compile_s=compile_s, run_s=run_s,
        derived=derived, samples=samples, meta=info,
    )
