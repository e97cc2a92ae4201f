"""Intergalactic-medium transmission: Madau (1995).

Lyman-series line blanketing, τ_j = A_j (λ_obs/λ_j)^3.46 for λ_obs < λ_j (1+z)
(Lyα, β, γ, δ with A = 3.6e-3, 1.7e-3, 1.18e-3, 9.3e-4), plus photoelectric absorption
by intervening Lyman-limit systems blueward of 912 (1+z) Å with Madau's approximation
(his eq. 16 fitting form). Transmission = exp(−Σ τ), equal to 1 redward of Lyα.
"""

from __future__ import annotations

import jax.numpy as jnp

from sedjax.physics.constants import LYMAN_LIMIT_AA

_LINES_AA = (1215.67, 1025.72, 972.537, 949.743)
_COEFFS = (3.6e-3, 1.7e-3, 1.18e-3, 9.3e-4)


def igm_tau_madau(wave_obs_aa, z):
    """Madau (1995) effective IGM optical depth at observed wavelengths (n,)."""
    tau = jnp.zeros_like(wave_obs_aa)
    for lam, a in zip(_LINES_AA, _COEFFS):
        tau = tau + jnp.where(wave_obs_aa < lam * (1.0 + z), a * (wave_obs_aa / lam) ** 3.46, 0.0)
    xc = wave_obs_aa / LYMAN_LIMIT_AA
    xe = 1.0 + z
    below = xc < xe
    xc_s = jnp.where(below, xc, 1.0)
    tau_c = (
        0.25 * xc_s**3 * (xe**0.46 - xc_s**0.46)
        + 9.4 * xc_s**1.5 * (xe**0.18 - xc_s**0.18)
        - 0.7 * xc_s**3 * (xc_s**-1.32 - xe**-1.32)
        - 0.023 * (xe**1.68 - xc_s**1.68)
    )
    return tau + jnp.where(below, jnp.clip(tau_c, 0.0, None), 0.0)


def igm_transmission(wave_obs_aa, z):
    """IGM transmission exp(−τ) at observed wavelengths (Madau 1995), in [0, 1]."""
    return jnp.exp(-igm_tau_madau(wave_obs_aa, z))
