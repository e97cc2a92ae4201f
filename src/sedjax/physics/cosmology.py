"""Flat ΛCDM cosmology without radiation (Planck 2018 defaults), in JAX.

E(z) = sqrt(Ωm (1+z)³ + ΩΛ), ΩΛ = 1 − Ωm.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from sedjax.physics.constants import C_KM_S, H0_PLANCK18, KM_PER_MPC, OM0_PLANCK18, SEC_PER_GYR

_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)


def hubble_time_gyr(h0=H0_PLANCK18):
    """1/H0 in Gyr for H0 in km/s/Mpc."""
    return KM_PER_MPC / h0 / SEC_PER_GYR


def age_of_universe_gyr(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    """Cosmic time at redshift z in Gyr (analytic for flat ΛCDM without radiation).

    t(z) = 2 / (3 H0 sqrt(ΩΛ)) · asinh( sqrt(ΩΛ/Ωm) (1+z)^−3/2 )

    Parameters
    ----------
    z : scalar or array, redshift ≥ 0
    """
    ol = 1.0 - om0
    return (2.0 / (3.0 * math.sqrt(ol))) * hubble_time_gyr(h0) * jnp.arcsinh(
        math.sqrt(ol / om0) * (1.0 + z) ** -1.5
    )


def comoving_distance_mpc(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    """Line-of-sight comoving distance c/H0 ∫0^z dz'/E(z') in Mpc.

    64-node Gauss–Legendre quadrature on [0, z] (relative error < 1e-12 for z ≤ 20);
    jit/grad/vmap-safe, exactly 0 (with finite gradient) at z = 0.
    """
    z = jnp.asarray(z)
    x = 0.5 * z[..., None] * (jnp.asarray(_GL_X, z.dtype) + 1.0)
    e = jnp.sqrt(om0 * (1.0 + x) ** 3 + (1.0 - om0))
    integral = 0.5 * z * jnp.sum(jnp.asarray(_GL_W, z.dtype) / e, axis=-1)
    return (C_KM_S / h0) * integral


def luminosity_distance_mpc(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    """Luminosity distance (1+z) D_C in Mpc."""
    return (1.0 + z) * comoving_distance_mpc(z, h0, om0)


def lookback_time_gyr(z, h0=H0_PLANCK18, om0=OM0_PLANCK18):
    """Lookback time t(0) − t(z) in Gyr."""
    return age_of_universe_gyr(0.0, h0, om0) - age_of_universe_gyr(z, h0, om0)
