"""Goodness of fit of one galaxy's posterior draws: ``chi2_best`` and ``chi2_pvalue``.

``chi2_best`` is the smallest χ² over the fit's draws (the best-fitting draw, whatever the
backend: MAP starts, Laplace or VI draws, NUTS chain states, nested-sampling points),

    χ²(θ) = Σ_b m_b (f_b − f̂_b(θ))² / σ_b²,   σ_b² = e_b² + (s f̂_b)²,

over the usable bands (mask m_b = 1) with the fit's photometry mode and systematic floor
``s``, i.e. the χ² part of :func:`sedjax.inference.posterior.gaussian_loglik`.

``chi2_pvalue = P(χ²_ν ≥ chi2_best)`` with ν = ``n_usable_bands`` degrees of freedom. Not
``n_bands − n_free``: the free parameters are bounded by their priors and often
degenerate, so their effective number is unknown (and often exceeds the number of bands,
which would leave ν ≤ 0); ν = n_bands is the conservative choice (the largest p-value of
the plausible choices), so a p-value below :data:`sedjax.inference.status.CHI2_PVALUE_MIN` is implausible for any
counting: the model cannot reproduce the data — a sentinel flux (−99), a unit mistake, a
wrong error column, or a fit stuck far from the mode. The status policy
(:func:`sedjax.inference.status.assess_status`) adds a warning for it; the fit stays "ok"
because the sampler itself worked, and ``chi2_pvalue`` is stored with every result (FitResult
diagnostics; ``diag_chi2_pvalue`` in batch summary tables) so it can be filtered on.

Computed inside the compiled sample-conversion step of batched fits
(:class:`sedjax.fitting.program.BatchProgram`) and in one small jitted call in
:func:`sedjax.fitting.single.fit`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sedjax.inference.posterior import make_target


def make_chi2_fn(model, mode: str = "fast", sys_frac: float = 0.0):
    """``fn(u, data) -> {"chi2_best", "chi2_pvalue", "n_usable_bands"}`` for one galaxy.

    ``u``: (S, d) unconstrained draws (non-finite rows are skipped); ``data``: the
    per-galaxy pytree of :func:`sedjax.inference.posterior.make_data`. Pure JAX:
    jit/vmap-able (vmap over galaxies for a batch).
    """
    residual_fn = make_target(model, mode=mode, sys_frac=sys_frac, library_size=0).residual_fn

    def chi2_one(u, data):
        r, _ = residual_fn(u, data)  # m_b (f_b - f̂_b) / σ_b: the likelihood's own residuals
        return jnp.sum(r**2)

    def fn(u, data):
        finite = jnp.all(jnp.isfinite(u), axis=-1)
        chi2 = jax.vmap(chi2_one, in_axes=(0, None))(jnp.where(finite[:, None], u, 0.0), data)
        chi2 = jnp.where(finite & jnp.isfinite(chi2), chi2, jnp.inf)
        best = jnp.min(chi2)
        dof = jnp.sum(data["mask"])
        pvalue = jnp.where(jnp.isfinite(best), jax.scipy.special.gammaincc(dof / 2.0, best / 2.0), jnp.nan)
        return {"chi2_best": jnp.where(jnp.isfinite(best), best, jnp.nan), "chi2_pvalue": pvalue,
                "n_usable_bands": dof}

    return fn
