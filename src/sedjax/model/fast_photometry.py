"""Fast-mode band fluxes: SSP band tables contracted with masses, metallicity weights and dust.

    flux_b = Σ_k Σ_m w_m [ t_old(b,k) Σ_a m_old(a) T_old(a, m, b, k) + (young likewise) ]

``T`` are :class:`~sedjax.model.table_grid.FastTables` rows (age-major; columns metallicity,
band, sub-bin), ``w`` the metallicity weights, ``t`` the dust transmissions at the
sub-bins' effective wavelengths. The forward contracts the ages first (one matrix product
per galaxy, a GEMM under ``vmap``).

Derivatives (a custom JVP with symbolic zeros): forward mode through the plain contraction
would carry every tangent direction through the age × (metallicity · band · sub-bin)
product, d times for a Jacobian in d parameters, although only the SFH's directions move
the masses. The rule contracts the tables once with ``w`` and ``t`` instead
(``T_wt(a, b)``), so a mass tangent costs (ages × bands); the metallicity and dust tangents
use the forward's own age-contracted fluxes. A table tangent (a free redshift) goes
through the forward contraction itself. The rule is linear in the tangents, so reverse
mode transposes it (at the price of the one ``T_wt`` contraction in the forward pass).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero


def _by_age(mass, table, n_met, shape):
    """(n_met, B, K): the table rows contracted with the masses."""
    return (mass @ table).reshape((n_met,) + shape)


def _flux(mass_young, mass_old, met_w, t_young, t_old, table_young, table_old):
    n_met, shape = met_w.shape[0], t_young.shape
    young = jnp.tensordot(met_w, _by_age(mass_young, table_young, n_met, shape), axes=1)
    old = jnp.tensordot(met_w, _by_age(mass_old, table_old, n_met, shape), axes=1)
    return jnp.sum(old * t_old + young * t_young, axis=-1)


@jax.custom_jvp
def band_flux(mass_young, mass_old, met_w, t_young, t_old, table_young, table_old):
    """Fast-mode photometry (B,) from the SSP band tables.

    Parameters
    ----------
    mass_young, mass_old : (n_young,), (n_old,) M☉ per table row (the ages the tables keep)
    met_w : (n_met,) metallicity weights
    t_young, t_old : (B, K) dust transmissions at the sub-bins
    table_young, table_old : (n_young | n_old, n_met · B · K) band fluxes per unit mass
    """
    return _flux(mass_young, mass_old, met_w, t_young, t_old, table_young, table_old)


def _is_zero(t):
    return isinstance(t, SymbolicZero)


def _band_flux_jvp(primals, tangents):
    mass_y, mass_o, met_w, t_y, t_o, tab_y, tab_o = primals
    dm_y, dm_o, dw, dt_y, dt_o, dtab_y, dtab_o = tangents
    n_met, shape = met_w.shape[0], t_y.shape
    by_y = _by_age(mass_y, tab_y, n_met, shape)  # (n_met, B, K)
    by_o = _by_age(mass_o, tab_o, n_met, shape)
    y = jnp.tensordot(met_w, by_y, axes=1)  # (B, K)
    o = jnp.tensordot(met_w, by_o, axes=1)
    flux = jnp.sum(o * t_o + y * t_y, axis=-1)
    out = jnp.zeros_like(flux)

    def tables_wt(tab, t):  # (rows, B): Σ_m Σ_k T(a, m, b, k) w_m t(b, k), batched over b
        rows = tab.shape[0]
        return jnp.einsum("ambk,mbk->ab", tab.reshape((rows, n_met) + shape), met_w[:, None, None] * t[None])

    if not _is_zero(dm_y):
        out = out + dm_y @ tables_wt(tab_y, t_y)
    if not _is_zero(dm_o):
        out = out + dm_o @ tables_wt(tab_o, t_o)
    if not _is_zero(dw):
        out = out + dw @ jnp.sum(by_o * t_o + by_y * t_y, axis=-1)
    if not _is_zero(dt_y):
        out = out + jnp.sum(y * dt_y, axis=-1)
    if not _is_zero(dt_o):
        out = out + jnp.sum(o * dt_o, axis=-1)
    if not (_is_zero(dtab_y) and _is_zero(dtab_o)):
        zero_y = jnp.zeros_like(tab_y) if _is_zero(dtab_y) else dtab_y
        zero_o = jnp.zeros_like(tab_o) if _is_zero(dtab_o) else dtab_o
        out = out + _flux(mass_y, mass_o, met_w, t_y, t_o, zero_y, zero_o)
    return flux, out


band_flux.defjvp(_band_flux_jvp, symbolic_zeros=True)
