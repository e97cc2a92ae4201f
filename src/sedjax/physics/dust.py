"""Dust attenuation: Charlot & Fall (2000) two-component power law, Calzetti (2000).

Optical depths are given at 5500 Å (``tau_v``); transmission is exp(−τ(λ)).
"""

from __future__ import annotations

import jax.numpy as jnp

from sedjax.physics.constants import CALZETTI_RV, DUST_REF_WAVE_AA


def powerlaw_tau(wave_rest_aa, tau_v, slope):
    """τ(λ) = tau_v (λ / 5500 Å)^slope.

    Parameters
    ----------
    wave_rest_aa : (n,) rest wavelength, Angstrom
    tau_v : scalar optical depth at 5500 Å
    slope : scalar power-law index (CF00: −0.7)
    """
    return tau_v * (wave_rest_aa / DUST_REF_WAVE_AA) ** slope


def calzetti_k(wave_rest_aa):
    """Calzetti et al. (2000) k(λ) = A_λ/E(B−V), R_V = 4.05.

    0.12–0.63 µm: k = 2.659(−2.156 + 1.509/x − 0.198/x² + 0.011/x³) + R_V;
    0.63–2.2 µm: k = 2.659(−1.857 + 1.040/x) + R_V (x in µm). Below 0.12 µm the UV branch
    is continued linearly in 1/λ with its slope at 0.12 µm; above 2.2 µm the IR branch is
    continued and clipped at 0.
    """
    x = wave_rest_aa / 1e4
    x_uv = jnp.maximum(x, 0.12)
    k_uv = 2.659 * (-2.156 + 1.509 / x_uv - 0.198 / x_uv**2 + 0.011 / x_uv**3) + CALZETTI_RV
    # d k / d(1/x) at x = 0.12 for the linear continuation
    inv0 = 1 / 0.12
    dk_dinv = 2.659 * (1.509 - 2 * 0.198 * inv0 + 3 * 0.011 * inv0**2)
    k_far_uv = k_uv + dk_dinv * (1.0 / jnp.minimum(x, 0.12) - inv0)
    k_ir = 2.659 * (-1.857 + 1.040 / x) + CALZETTI_RV
    k = jnp.where(x < 0.12, k_far_uv, jnp.where(x < 0.63, k_uv, k_ir))
    return jnp.maximum(k, 0.0)


def calzetti_tau(wave_rest_aa, tau_v):
    """τ(λ) = tau_v k(λ) / R_V (so τ(5500 Å) ≈ tau_v)."""
    return tau_v * calzetti_k(wave_rest_aa) / CALZETTI_RV


def cf00_transmission(wave_rest_aa, tau_diff, tau_bc, slope, law="powerlaw"):
    """Two-component (birth cloud + diffuse) dust transmission.

    Old stars see exp(−τ_diff(λ)); stars younger than 10 Myr additionally see
    exp(−tau_bc (λ/5500 Å)^slope). ``law`` (static) picks the diffuse curve:
    "powerlaw" (tau_diff (λ/5500)^slope) or "calzetti".

    Returns
    -------
    young, old : (n,) transmissions in [0, 1]
    """
    if law == "powerlaw":
        t_diff = powerlaw_tau(wave_rest_aa, tau_diff, slope)
    elif law == "calzetti":
        t_diff = calzetti_tau(wave_rest_aa, tau_diff)
    else:
        raise ValueError(f"unknown dust law {law!r}; use 'powerlaw' or 'calzetti'")
    old = jnp.exp(-t_diff)
    young = jnp.exp(-t_diff - powerlaw_tau(wave_rest_aa, tau_bc, slope))
    return young, old
