"""Importance-weight helpers shared by the single-t (:mod:`.importance`) and mixture
(:mod:`.mixture_is`) proposals: systematic resampling and weighted moments."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def systematic_resample(key, log_weights, n: int):
    """``n`` indices drawn by systematic resampling from normalised ``exp(log_weights)``."""
    w = jnp.exp(log_weights - jax.scipy.special.logsumexp(log_weights))
    cdf = jnp.cumsum(w)
    u = (jnp.arange(n, dtype=w.dtype) + jax.random.uniform(key, dtype=w.dtype)) / n
    return jnp.clip(jnp.searchsorted(cdf, u * cdf[-1]), 0, w.shape[0] - 1)


MIN_ESS_FOR_COV = 50.0  # PSIS ESS below which a weighted covariance is not handed on as a metric


def weighted_moments(x, log_weights):
    """Mean (d,) and covariance (d, d) of draws ``x`` (n, d) under normalised ``exp(log_weights)``."""
    w = jnp.exp(log_weights - jax.scipy.special.logsumexp(log_weights))
    mean = w @ x
    r = x - mean[None, :]
    return mean, (r * w[:, None]).T @ r
