"""One log-posterior for every backend, built from (model, observed photometry).

Likelihood: Gaussian in flux space,

    ln L = −½ Σ_b m_b [ (f_b − f̂_b)² / σ_b² + ln(2π σ_b²) ],  σ_b² = e_b² + (s f̂_b)²

with m_b the band mask (0 for unusable bands), e_b the catalogue error and s an optional
fractional systematic floor. The prior is the spec's; everything is evaluated in the
unconstrained space u of :meth:`Parameters.from_unconstrained`, with its log-Jacobian:

    ln p(u | data) = ln L(θ(u)) + ln π(θ(u)) + ln |dθ/du|

Per-galaxy data (a pytree, so batches vmap over it): ``flux``, ``flux_err``, ``mask``
(n_band,), ``redshift`` (scalar; used whenever the spec does not make z free) and
``tables`` (fast-mode tables at that redshift, or None for the model's own); optionally
``init_library`` (a :func:`sedjax.inference.library.build_prior_library` dict) for MAP starts.

The target also carries the likelihood as whitened residuals (``residual_fn``: the MAP
stage's Gauss–Newton), library starts (``start_fn``) and, by default, the same posterior
with the SFH normalisation integrated out exactly (``collapse``:
:mod:`sedjax.inference.collapse`), which the sampling backends use; see :func:`make_target`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from .backends import Kinks, LinearAmplitude, Target
from .backends.registry import QUICK_COMPILE
from .collapse import make_collapse
from .library import make_start_fn


def make_data(model, flux, flux_err, mask=None, redshift=None, tables=None) -> dict:
    """Validated per-galaxy data pytree for :func:`make_target`.

    Bands with a NaN/inf flux or a non-positive or NaN error are masked. Raises
    ``ValueError`` when no band is usable or the shapes do not match the model's bands.
    """
    flux = np.asarray(flux, dtype=np.float64)
    err = np.asarray(flux_err, dtype=np.float64)
    n_band = len(model.bands)
    if flux.shape != (n_band,) or err.shape != (n_band,):
        raise ValueError(
            f"flux and flux_err must have shape ({n_band},) for bands {model.bands}; "
            f"got {flux.shape} and {err.shape}"
        )
    usable = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    if mask is not None:
        usable &= np.asarray(mask, dtype=bool)
    if not usable.any():
        raise ValueError("no usable band: every flux is NaN or every error is NaN or <= 0")
    if redshift is None:  # a free redshift is sampled: the data's entry is unused (NaN)
        redshift = np.nan if model.fixed_redshift is None else model.fixed_redshift
    dt = model.dtype
    return {
        "flux": jnp.asarray(np.where(usable, flux, 0.0), dt),
        "flux_err": jnp.asarray(np.where(usable, err, 1.0), dt),
        "mask": jnp.asarray(usable, dt),
        "redshift": jnp.asarray(redshift, dt),
        "tables": tables,
    }


def gaussian_loglik(pred, flux, flux_err, mask, sys_frac: float = 0.0):
    """The photometric log-likelihood of the module docstring, for predicted fluxes ``pred``.

    ``−½ Σ_b m_b [(f_b − f̂_b)² / σ_b² + ln(2π σ_b²)]``, ``σ_b² = e_b² + (s f̂_b)²``; every
    argument broadcasts over bands (the last axis). The one likelihood of the package: the
    backends' target, gradient fields and benchmarks all call it.
    """
    var = photometric_variance(pred, flux_err, sys_frac)
    chi2 = (flux - pred) ** 2 / var
    return -0.5 * jnp.sum(mask * (chi2 + jnp.log(2 * math.pi * var)), axis=-1)


def photometric_variance(pred, flux_err, sys_frac: float = 0.0):
    """σ_b² = e_b² + (s f̂_b)²: catalogue error and fractional systematic floor, in quadrature."""
    return flux_err**2 + (sys_frac * pred) ** 2


def make_target(model, mode: str = "fast", sys_frac: float = 0.0, library_size: int = 10_000, library_seed: int = 0,
                collapse_amplitude: bool = True) -> Target:
    """Target (log density, likelihood, prior, init, residuals, starts) in u space for ``model``.

    ``residual_fn(u, data) -> (r, c)``: ``r_b = m_b (f_b - f̂_b) / σ_b`` and
    ``c = -½ Σ_b m_b ln(2π σ_b²)``, so that ``loglik_fn = -½|r|² + c`` (with ``sys_frac > 0``
    σ depends on the prediction, and so does c). ``start_fn``: the ``library_size`` prior
    library of :mod:`sedjax.inference.library` (built lazily, seed ``library_seed``; None
    when ``library_size`` is 0; with a free redshift its starts span the coarse χ²(z)
    profile's local minima). ``multimodal``: True for a free redshift. ``collapse``: the amplitude-collapsed
    target of :mod:`sedjax.inference.collapse` when ``collapse_amplitude`` (and the SFH
    normalisation is free), else None; the registry gives it to the backends that sample.
    ``linear_amplitude``: the normalisation's index, ln A(u) and the residuals at A = 0 for
    LM's variable projection (:class:`~sedjax.inference.backends.LinearAmplitude`; every band
    is linear in A; only without a systematic floor, where σ_b depends on A).
    ``low_precision``: for a float64 model, the same target on ``model.astype("float32")``
    (without library or collapse), for LM iterations in float32 (``MAPOpts.lm_dtype``).
    ``kinks``: :func:`metallicity_kinks` (when the metallicity is free), for LM's polishing.
    """
    spec = model.spec
    z_free = "redshift" in spec.free_params

    def params_of(u, data):
        params, logdet = spec.from_unconstrained(u)
        if not z_free:
            params = dict(params, redshift=data["redshift"])
        return params, logdet

    def loglik_fn(u, data):
        params, _ = params_of(u, data)
        pred = model.predict_photometry(params, mode=mode, tables=data.get("tables"))
        return gaussian_loglik(pred, data["flux"], data["flux_err"], data["mask"], sys_frac)

    def logprior_fn(u, data):
        params, logdet = params_of(u, data)
        return spec.log_prior(params) + logdet

    def logdensity_fn(u, data):
        return loglik_fn(u, data) + logprior_fn(u, data)

    def residual_fn(u, data):
        params, _ = params_of(u, data)
        pred = model.predict_photometry(params, mode=mode, tables=data.get("tables"))
        var = photometric_variance(pred, data["flux_err"], sys_frac)
        r = data["mask"] * (data["flux"] - pred) / jnp.sqrt(var)
        c = -0.5 * jnp.sum(data["mask"] * jnp.log(2 * math.pi * var))
        return r, c

    def init_fn(key):
        draw = spec.sample(key)
        return spec.to_unconstrained(draw)

    def loglik_of_pred(pred, data):
        return gaussian_loglik(pred, data["flux"], data["flux_err"], data["mask"], sys_frac)

    collapse = make_collapse(model, loglik_of_pred, params_of, sys_frac=sys_frac, mode=mode) if collapse_amplitude else None
    linear_amplitude = None
    if sys_frac == 0.0 and spec.norm_param in spec.free_params:
        norm = spec.norm_param

        def log_amplitude_fn(u):  # ln A of the normalisation (a log10 parameter)
            return math.log(10.0) * spec.from_unconstrained(u)[0][norm]

        def zero_residual_fn(data):  # r at A = 0: the data alone (sigma does not depend on A)
            return data["mask"] * data["flux"] / jnp.sqrt(photometric_variance(0.0, data["flux_err"]))

        linear_amplitude = LinearAmplitude(spec.free_params.index(norm), log_amplitude_fn, zero_residual_fn)
    low_precision = None
    if model.dtype == jnp.float64:  # LM's float32 twin: the model's tables cast, no library, no collapse
        low_precision = make_target(model.astype("float32"), mode=mode, sys_frac=sys_frac, library_size=0,
                                    collapse_amplitude=False)
    # each function a stable jitted object: every program that calls it (value, gradient,
    # under vmap, inside loops) reuses one trace of it instead of tracing the model again
    return Target(
        logdensity_fn=jax.jit(logdensity_fn),
        init_fn=init_fn,
        loglik_fn=jax.jit(loglik_fn),
        logprior_fn=jax.jit(logprior_fn),
        residual_fn=jax.jit(residual_fn),
        start_fn=make_start_fn(model, library_size, library_seed),
        collapse=collapse,
        linear_amplitude=linear_amplitude,
        low_precision=low_precision,
        kinks=metallicity_kinks(model),
        multimodal=z_free,
    )


def metallicity_kinks(model) -> Kinks | None:
    """The grid metallicities inside the ``met_logzsol`` prior, in u (:class:`Kinks`), or None
    when the metallicity is not free or no grid metallicity lies inside its prior."""
    spec = model.spec
    if "met_logzsol" not in spec.free_params:
        return None
    prior = spec.priors["met_logzsol"]
    nodes = [float(prior.to_unconstrained(x)) for x in model.metallicity_nodes_logzsol]
    nodes = [u for u in nodes if math.isfinite(u)]  # a node on or outside the prior's bounds has none
    if not nodes:
        return None
    return Kinks(spec.free_params.index("met_logzsol"), jnp.asarray(nodes, model.dtype))


def physical_samples(model, u_samples, redshift):
    """Map u-space draws (n, d) to physical free parameters and derived quantities.

    Compiled with :data:`~sedjax.inference.backends.registry.QUICK_COMPILE`: one fit's few
    thousand draws run in milliseconds, so the compile is what counts.

    Returns
    -------
    samples : {free param: (n,)}, derived : {derived quantity: (n,)}
    """
    spec = model.spec

    def one(u):
        params, _ = spec.from_unconstrained(u)
        if "redshift" not in spec.free_params:
            params = dict(params, redshift=redshift)
        return {k: params[k] for k in spec.free_params}, model.derived(params)

    u = jnp.asarray(u_samples)
    finite = jnp.all(jnp.isfinite(u), axis=1)
    samples, derived = jax.jit(jax.vmap(one), compiler_options=QUICK_COMPILE)(jnp.where(finite[:, None], u, 0.0))
    nan = lambda a: np.where(np.asarray(finite), np.asarray(a, dtype=np.float64), np.nan)  # noqa: E731
    return {k: nan(v) for k, v in samples.items()}, {k: nan(v) for k, v in derived.items()}
