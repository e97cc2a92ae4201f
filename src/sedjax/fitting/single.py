"""``fit``: one galaxy, one backend, one call -> FitResult (physical samples, derived, status).

A thin wrapper over a bounded cache of :class:`~sedjax.fitting.fitter.Fitter` objects, one
per (model, backend, options, mode, sys_frac, collapse): the first call on a model compiles
its programs, later calls with other fluxes, keys, masks or redshifts inside the model's
range reuse them. :func:`fit_cache_info` lists the cache, :func:`clear_fit_cache` releases
it; the cache holds at most :data:`FIT_CACHE_SIZE` Fitters (least recently used dropped
first), and each keeps its model alive until dropped.
"""

from __future__ import annotations

from collections import OrderedDict

from sedjax.fitting.fitter import Fitter, check_fit_settings, fit_info  # noqa: F401 (fit_info re-exported)
from sedjax.inference import FitResult, make_opts

FIT_CACHE_SIZE = 8
"""The most Fitters :func:`fit` keeps (each holds its compiled programs and its model)."""

_FITTERS: "OrderedDict[tuple, Fitter]" = OrderedDict()


def _opts_key(opts) -> tuple:
    return tuple((k, repr(getattr(opts, k))) for k in opts.__dataclass_fields__)


def fitter_for(model, backend: str, *, mode: str = "fast", sys_frac: float = 0.0, options=None,
               collapse_amplitude: bool = True, compiler_options=None) -> Fitter:
    """The cached :class:`Fitter` for these settings (made, and cached, when there is none).

    Fitters of one model with the same mode, sys_frac and collapse share one target (its
    prior library is built once)."""
    sys_frac = check_fit_settings(backend, mode, sys_frac)
    opts = make_opts(backend, **(options or {}))
    collapse_amplitude = bool(collapse_amplitude)
    key = (id(model), backend, mode, sys_frac, collapse_amplitude, _opts_key(opts),
           tuple(sorted((compiler_options or {}).items())))
    f = _FITTERS.get(key)
    if f is not None and f.model is model:
        _FITTERS.move_to_end(key)
        return f
    target = next((g.target for g in _FITTERS.values() if g.model is model and g.mode == mode
                   and g.sys_frac == sys_frac and g.collapse_amplitude == collapse_amplitude), None)
    f = Fitter(model, backend, mode=mode, sys_frac=sys_frac, options=opts, collapse_amplitude=collapse_amplitude,
               target=target, compiler_options=compiler_options)
    _FITTERS[key] = f
    while len(_FITTERS) > FIT_CACHE_SIZE:
        _FITTERS.popitem(last=False)
    return f


def fit_cache_info() -> list[dict]:
    """One row per cached Fitter (oldest first): backend, mode, sys_frac, collapse, bands,
    n_compiles and its programs (:attr:`Fitter.programs`)."""
    return [{"backend": f.backend, "mode": f.mode, "sys_frac": f.sys_frac, "collapse_amplitude": f.collapse_amplitude,
             "bands": list(f.model.bands), "n_compiles": f.n_compiles, "programs": f.programs}
            for f in _FITTERS.values()]


def clear_fit_cache() -> None:
    """Drop every cached Fitter (their compiled programs and the models they hold)."""
    _FITTERS.clear()


def fit(model, obs: dict, backend: str, key, mode: str = "fast", sys_frac: float = 0.0, options=None, meta=None,
        collapse_amplitude: bool = True, compiler_options=None) -> FitResult:
    """Fit one galaxy's photometry with one backend.

    Parameters
    ----------
    model : SEDModel
    obs : dict with ``flux`` and ``flux_err`` (n_band,) in maggies, optional ``mask`` and
        ``redshift`` (used when the spec's redshift is fixed)
    backend : one of ``sedjax.inference.BACKENDS`` (map, laplace, pathfinder, nuts, vi, ns, is, auto)
    key : jax PRNG key (same key, same samples)
    mode : photometry mode of the likelihood ("fast" or "exact")
    sys_frac : fractional systematic error added in quadrature (finite, >= 0)
    options : dict of backend option overrides (fields of the backend's Opts)
    meta : extra metadata stored with the result
    collapse_amplitude : the sampling backends (pathfinder, nuts, vi, ns, is, auto) sample the
        posterior with the SFH normalisation integrated out and draw it back per sample
        (:mod:`sedjax.inference.collapse`); False: they sample the full posterior
    compiler_options : XLA options for the backend's programs (:class:`Fitter`), e.g.
        :data:`sedjax.inference.OPTIMIZED_COMPILE`; default: the process's XLA flags

    Returns
    -------
    FitResult with physical-unit samples of every free parameter, derived quantities per
    sample, diagnostics (with ``chi2_best``, ``chi2_pvalue``, ``n_usable_bands``: see
    :mod:`sedjax.fitting.goodness`; ``rhat_quantities_max``, ``ess_quantities_min``: see
    :func:`sedjax.inference.diagnostics.quantity_convergence`), compile/run times (compile 0
    when the programs were cached) and status ("failed" with a reason when the fit is
    unusable). Raises ``ValueError`` when the data redshift is outside ``model.z_range`` or
    not > 0 (:func:`sedjax.fitting.inputs.check_redshifts`).
    """
    f = fitter_for(model, backend, mode=mode, sys_frac=sys_frac, options=options,
                   collapse_amplitude=collapse_amplitude, compiler_options=compiler_options)
    return f.fit(obs, key, meta=meta)
