"""The forward model: parameters -> observed photometry / spectrum / derived quantities.

``SEDModel(spec, ssp, bands)`` binds a :class:`~sedjax.model.params.Parameters` spec, an SSP grid
and filter curves. Parameter values are a dict ``name -> scalar``; every method is pure and
``jax.jit`` / ``jax.grad`` / ``jax.vmap``-safe in those values.

Physics (see the kernel modules for each convention):

    L_ν(λ) = Σ_age [M_old(a) e^{−τ_diff(λ)} + M_young(a) e^{−τ_diff(λ) − τ_bc(λ)}] ℓ_ν(Z, a, λ)
    f_ν,obs(λ_obs = (1+z) λ) = (1+z) L_ν(λ) L☉ / (4π d_L(z)²) × T_IGM(λ_obs, z)

with ℓ_ν the SSP spectrum (L☉/Hz per M☉ formed) interpolated linearly in log Z, M(a) the
SFH integrated over each age bin (:mod:`sedjax.physics.ssp_weights`), τ(λ) the dust optical depths
(:mod:`sedjax.physics.dust`), d_L and t_univ from flat ΛCDM (:mod:`sedjax.physics.cosmology`).

Photometry modes
----------------
``exact``: builds the rest-frame spectrum on the integration grid and integrates it
through every filter (:mod:`sedjax.photometry.integration`).
``fast``: precomputes, per band b and per sub-bin k (``n_subbins`` equal intervals in
ln λ across the filter), the band integral of every SSP, I[m, b, k, a]; a call is then a
contraction of metallicity × age weights with the dust transmission evaluated at each
sub-bin's transmission-weighted wavelength. The tables depend on z only:
:meth:`SEDModel.fast_tables` is a pure function of z (vmappable for per-galaxy z). With a
fixed redshift they are built once at construction.

(Over the ~400-line guide on purpose: every method here reads the model's cast SSP tables,
age bins and line tables, which no other module may touch; the pieces that need none of them
live in :mod:`~sedjax.model.fast_photometry`, :mod:`~sedjax.model.table_grid` and
:mod:`sedjax.physics`.)
"""

from __future__ import annotations

import copy
import math

import jax
import jax.numpy as jnp

from sedjax.physics import cosmology, dust, igm
from sedjax.physics.constants import AB_ZEROPOINT_CGS, L_SUN_ERG_S, MPC_CM, T_BIRTH_CLOUD_GYR
from sedjax.photometry.filters import load_filters
from sedjax.model.params import Parameters
from sedjax.model.fast_photometry import band_flux
from sedjax.model.table_grid import (  # noqa: F401 (FastTables re-exported)
    FREE_Z_DLNZ,
    FREE_Z_MAX_NODES,
    FastTables,
    RedshiftTables,
    TableGrid,
    interp_tables,
    node_bracket,
)
from sedjax.photometry.integration import band_weights, make_integration_grid
from sedjax.model.priors import Fixed, prior_range
from sedjax.physics.ssp_weights import (
    make_age_bins,
    mass_per_age_bin,
    met_interp,
    met_weights,
    sfh_mass_in_intervals,
    sfh_scale,
    take_two_metallicities,
)
from sedjax.model.names import DERIVED_NAMES  # noqa: F401 (re-exported; defined JAX-free)
from sedjax.ssp.grid import SSPData
from sedjax.ssp.nebular.lines import line_luminosities


class SEDModel:
    """Forward model for one parameter spec, SSP grid and set of bands.

    Parameters
    ----------
    spec : Parameters
    ssp : SSPData
    bands : list of str
        Filter names (see :func:`sedjax.photometry.filters.load_filters`).
    dtype : {"float64", "float32"}
        Precision of tables and arithmetic (float32 for GPUs).
    dust_law : {"powerlaw", "calzetti"}
        Diffuse-dust law; birth clouds always use the power law with ``dust_slope``.
    igm : bool
        Apply IGM attenuation.
    z_range : (float, float) or None
        Redshifts the integration grid must support; default from the redshift prior.
        Give it when per-galaxy redshifts come from a catalogue.
    oversample : int
        Integration points per native SSP wavelength interval (exact mode and tables).
    n_subbins : int
        Sub-bins per band for the fast mode.
    emission_lines : dict, optional
        The grid's line catalogue (:func:`sedjax.ssp.nebular.lines.load_emission_lines`); with it,
        :meth:`derived` also reports intrinsic Hα, Hβ, [O III] 5007 and [O II] 3727.
    """

    def __init__(
        self,
        spec: Parameters,
        ssp: SSPData,
        bands,
        dtype: str = "float64",
        dust_law: str = "powerlaw",
        igm: bool = True,
        z_range=None,
        oversample: int = 1,
        n_subbins: int = 16,
        emission_lines: dict | None = None,
    ):
        if dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        if dust_law not in ("powerlaw", "calzetti"):
            raise ValueError(f"dust_law must be 'powerlaw' or 'calzetti', got {dust_law!r}")
        self.spec = spec
        self.ssp = ssp
        self.bands = list(bands)
        self.filters = load_filters(self.bands)
        self.dtype = jnp.dtype(dtype)
        self.dust_law = dust_law
        self.igm = bool(igm)
        self.n_subbins = int(n_subbins)
        z_lo, z_hi = z_range if z_range is not None else prior_range(spec.priors["redshift"])
        if z_lo <= 0:
            raise ValueError(
                f"redshift range starts at {z_lo}: the model needs z > 0 (luminosity distance "
                "vanishes at z = 0); use e.g. 1e-3 for a nearby galaxy"
            )
        self.z_range = (float(z_lo), float(z_hi))
        self.grid = make_integration_grid(ssp.ssp_wave, self.filters, z_lo, z_hi, oversample)
        i0, i1 = self.grid.native_slice
        t_min = float(cosmology.age_of_universe_gyr(self.z_range[1]))
        t_max = float(cosmology.age_of_universe_gyr(self.z_range[0]))
        self.t_narrow_gyr = min(0.5, 0.3 * t_min)  # age bins narrower than this use the cheap quadrature
        # ages whose bin starts before the Big Bang at every supported z are dropped
        self._bins = make_age_bins(ssp.ssp_lg_age_gyr, t_narrow_gyr=self.t_narrow_gyr, max_age_gyr=t_max)
        n_age = self._bins.n_age
        self._n_young, self._first_old = self._bins.n_young_ages, self._bins.first_old_age
        self._wave_nat = jnp.asarray(ssp.ssp_wave[i0:i1], self.dtype)
        self._flux_nat = jnp.asarray(ssp.ssp_flux[:, :n_age, i0:i1], self.dtype)
        # ages whose bin starts below 10 Myr: the only ones that can hold young mass
        self._ssp_lgmet = jnp.asarray(ssp.ssp_lgmet, self.dtype)
        self._lg_zsun = math.log10(ssp.zsun)
        self._age_gyr = jnp.asarray(self._bins.age_gyr, self.dtype)
        self._mass_remaining = (
            None if ssp.ssp_mass_remaining is None else jnp.asarray(ssp.ssp_mass_remaining[:, :n_age], self.dtype)
        )
        self._lines = None
        if emission_lines is not None:
            lum = jnp.asarray(emission_lines["ssp_emline_luminosity"][:, :n_age], self.dtype)
            idx = emission_lines["key_line_indices"]
            self._lines = (lum, {k: tuple(v) for k, v in idx.items()})
        prior_z = spec.priors["redshift"]
        self.fixed_redshift = float(prior_z.value) if isinstance(prior_z, Fixed) else None
        self._fast_tables_jit = jax.jit(self.fast_tables)
        self._tables = None
        if self.fixed_redshift is not None:
            self._tables = self._fast_tables_jit(jnp.asarray(self.fixed_redshift, self.dtype))
        # per-galaxy data redshifts: tables on a z grid over z_range, interpolated (table_grid);
        # a free redshift: a finer grid over its prior's range (the photometry at any sampled z)
        self.z_tables = self._redshift_tables(self._fast_tables_jit)

    def _redshift_tables(self, fast_tables):
        if not self.z_range[0] < self.z_range[1]:
            return None
        if self.fixed_redshift is None:
            return RedshiftTables(self, self.z_range, FREE_Z_DLNZ, fast_tables, FREE_Z_MAX_NODES)
        return RedshiftTables(self, self.z_range, fast_tables=fast_tables)

    def astype(self, dtype) -> "SEDModel":
        """This model in ``dtype`` (itself when it is already): every table cast, the
        fixed-redshift tables cast from this model's (not rebuilt), redshift-node tables
        built at the new precision on first use. LM's float32 iterations use it
        (:class:`~sedjax.inference.MAPOpts` ``lm_dtype``)."""
        dtype = jnp.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.name not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype.name!r}")
        twin = copy.copy(self)
        twin.dtype = dtype
        for name in ("_wave_nat", "_flux_nat", "_ssp_lgmet", "_age_gyr", "_mass_remaining", "_tables"):
            setattr(twin, name, jax.tree.map(lambda a: jnp.asarray(a, dtype), getattr(self, name)))
        if self._lines is not None:
            twin._lines = (jnp.asarray(self._lines[0], dtype), self._lines[1])
        twin._fast_tables_jit = jax.jit(twin.fast_tables)
        twin.z_tables = twin._redshift_tables(twin._fast_tables_jit)
        return twin

    # ----------------------------------------------------------------- helpers
    def _cast(self, params: dict) -> dict:
        return {k: jnp.asarray(v, self.dtype) for k, v in params.items()}

    def flux_scale(self, z):
        """Maggies per (L☉/Hz of rest-frame L_ν): (1+z) L☉ / (4π d_L²) / 3631 Jy."""
        d_l_mpc = cosmology.luminosity_distance_mpc(z)
        # constant folded in float64 so float32 never sees (Mpc in cm)² ~ 1e49
        const = L_SUN_ERG_S / (AB_ZEROPOINT_CGS * 4.0 * math.pi * MPC_CM**2)
        return (1.0 + z) * const / d_l_mpc**2

    def _igm_on_grid(self, z):
        if not self.igm:
            return None
        return igm.igm_transmission(jnp.asarray(self.grid.wave_rest_aa, self.dtype) * (1.0 + z), z)

    def mass_per_age_bin(self, params: dict):
        """(mass_young, mass_old), each (n_age,) M☉ formed per SSP age bin (< / ≥ 10 Myr)."""
        p = self._cast(params)
        t_obs = cosmology.age_of_universe_gyr(p["redshift"])
        return mass_per_age_bin(
            self.spec.mean_sfh_type, self.spec.norm_param, p, self._bins, t_obs
        )

    def _lgmet(self, p):
        return self._lg_zsun + p["met_logzsol"]

    def _dust(self, wave_rest_aa, p):
        """(young, old) transmissions at the given rest wavelengths."""
        return dust.cf00_transmission(
            wave_rest_aa, p["dust_tau_diff"], p["dust_tau_bc"], p["dust_slope"], law=self.dust_law
        )

    def _met_age_weights(self, p, mass_young, mass_old):
        """(2, n_met·n_age): [old; young] mass per (metallicity, age) after the
        linear-in-log-Z metallicity weights. Dense (no gather), so vmapping over galaxies
        turns every contraction with it into one matrix product."""
        w = met_weights(self._lgmet(p), self._ssp_lgmet)
        return jnp.stack([jnp.outer(w, mass_old).reshape(-1), jnp.outer(w, mass_young).reshape(-1)])

    def _rest_lnu_native(self, p, mass_young, mass_old, flux_nat, wave_nat):
        """Rest-frame L_ν (L☉/Hz) on the given native wavelengths."""
        wma = self._met_age_weights(p, mass_young, mass_old)
        s_old, s_young = wma @ flux_nat.reshape(-1, flux_nat.shape[-1])
        t_young, t_old = self._dust(wave_nat, p)
        return s_old * t_old + s_young * t_young

    # --------------------------------------------------------------- fast mode
    def fast_tables(self, z) -> FastTables:
        """Band integrals of every SSP at redshift ``z`` (pure; jit/vmap over z)."""
        z = jnp.asarray(z, self.dtype)
        g = self.grid
        w = band_weights(g, z, self._igm_on_grid(z)).astype(self.dtype)  # (B, n_int)
        ln_obs = jnp.log(jnp.asarray(g.wave_rest_aa, self.dtype) * (1.0 + z))
        ln_lo = jnp.log(jnp.asarray(g.filt_lo_aa, self.dtype))[:, None]
        ln_hi = jnp.log(jnp.asarray(g.filt_hi_aa, self.dtype))[:, None]
        u = (ln_obs[None, :] - ln_lo) / (ln_hi - ln_lo)
        k = jnp.clip(jnp.floor(u * self.n_subbins), 0, self.n_subbins - 1).astype(jnp.int32)
        gk = w[:, :, None] * jax.nn.one_hot(k, self.n_subbins, dtype=self.dtype)  # (B, n_int, K)
        # fold the oversampling interpolation back onto native points
        n_nat = self._wave_nat.shape[0]
        lo = jnp.asarray(g.interp_lo)
        fr = jnp.asarray(g.interp_frac, self.dtype)[None, :, None]
        seg = jax.vmap(lambda x, i: jax.ops.segment_sum(x, i, num_segments=n_nat), in_axes=(0, None))
        g_nat = seg(gk * (1 - fr), lo) + seg(gk * fr, lo + 1)  # (B, n_nat, K)
        table = jnp.einsum("maj,bjk->mabk", self._flux_nat, g_nat) * self.flux_scale(z)
        # age-major rows, (metallicity, band, sub-bin) columns: a call contracts the age
        # masses first (one matrix-vector product, or one GEMM under vmap), then the two
        # non-zero metallicity weights
        table = jnp.moveaxis(table, 1, 0)
        young = table[: self._n_young].reshape(self._n_young, -1)
        old = table[self._first_old :].reshape(table.shape[0] - self._first_old, -1)
        wsum = jnp.sum(g_nat, axis=1)
        wave_eff = jnp.einsum("bjk,j->bk", g_nat, self._wave_nat) / jnp.where(wsum > 0, wsum, 1.0)
        centre = jnp.exp(ln_lo + (jnp.arange(self.n_subbins) + 0.5) / self.n_subbins * (ln_hi - ln_lo)) / (1.0 + z)
        wave_eff = jnp.where(wsum > 0, wave_eff, centre)
        return FastTables(young_band_flux=young, old_band_flux=old, wave_eff_rest_aa=wave_eff)

    @property
    def ssp_table_shape(self) -> tuple[int, int, int]:
        """(n_met, n_age, n_wave): the SSP fluxes the model contracts (ages it keeps, native
        wavelengths the bands need)."""
        return tuple(int(n) for n in self._flux_nat.shape)

    @property
    def metallicity_nodes_logzsol(self) -> tuple[float, ...]:
        """log10 Z/Z☉ of the SSP grid's metallicities. The spectrum is linear in log Z between
        them, so its derivative in ``met_logzsol`` jumps at each (a kink of the posterior)."""
        return tuple(float(v) - self._lg_zsun for v in self.ssp.ssp_lgmet)

    @property
    def own_tables(self) -> FastTables | None:
        """The fast tables built at construction for the fixed redshift (None if z is free)."""
        return self._tables

    def tables_for(self, redshift) -> FastTables | None:
        """Fast-mode tables for one galaxy observed at ``redshift`` (concrete, not traced).

        None when the model's own tables serve: no redshift given, a free redshift in the
        spec (tables then follow the sampled z), or ``redshift`` equal to the fixed one.
        Otherwise the tables at that redshift: inside ``z_range``, interpolated between
        the nodes of :attr:`z_tables` (built once per node and kept, so a catalogue's
        galaxies share them; :mod:`sedjax.model.table_grid`), else one compiled
        :meth:`fast_tables`.
        """
        if redshift is None or self.fixed_redshift is None or float(redshift) == self.fixed_redshift:
            return None
        z = float(redshift)
        if self.z_tables is not None and self.z_range[0] <= z <= self.z_range[1]:
            return self.z_tables.at(z)
        return self._fast_tables_jit(jnp.asarray(z, self.dtype))

    def tables_for_batch(self, redshift) -> FastTables:
        """Fast-mode tables for a batch of galaxies, ``redshift`` (n,) (pure: jit-able).

        Galaxies at the model's fixed redshift get its own tables bit for bit (as
        :meth:`tables_for` gives them to a single fit); the others the tables interpolated
        on :attr:`z_tables`'s grid (every node built once, outside the trace), the same as
        :meth:`tables_for` gives a single fit; ``fast_tables(z)`` per galaxy when the
        model's ``z_range`` is a single redshift.
        """
        if self.z_tables is not None:
            grid = self.z_tables.grid()
            tabs = jax.vmap(lambda z: interp_tables(self, grid, z))(redshift)
        else:
            tabs = jax.vmap(self.fast_tables)(redshift)
        if self._tables is None:
            return tabs
        same = redshift == self.fixed_redshift

        def pick(t, t0):
            return jnp.where(same.reshape((-1,) + (1,) * (t.ndim - 1)), t0[None], t)

        return jax.tree.map(pick, tabs, self._tables)

    def _photometry_fast(self, p, tables: FastTables):
        mass_young, mass_old = mass_per_age_bin(
            self.spec.mean_sfh_type,
            self.spec.norm_param,
            p,
            self._bins,
            cosmology.age_of_universe_gyr(p["redshift"]),
        )
        # young mass sits only in the first ages, old mass only from first_old on: two
        # contractions over just those rows (under vmap each is one matrix product), then
        # the metallicity weights and dust (sedjax.model.fast_photometry)
        w = met_weights(self._lgmet(p), self._ssp_lgmet)
        shape = tables.wave_eff_rest_aa.shape
        t_young, t_old = self._dust(tables.wave_eff_rest_aa.reshape(-1), p)
        return band_flux(mass_young[: self._n_young], mass_old[self._first_old :], w, t_young.reshape(shape),
                         t_old.reshape(shape), tables.young_band_flux, tables.old_band_flux)

    # -------------------------------------------------------------- exact mode
    def _photometry_exact(self, p):
        z = p["redshift"]
        mass_young, mass_old = mass_per_age_bin(
            self.spec.mean_sfh_type,
            self.spec.norm_param,
            p,
            self._bins,
            cosmology.age_of_universe_gyr(z),
        )
        lnu = self._rest_lnu_native(p, mass_young, mass_old, self._flux_nat, self._wave_nat)
        lo = jnp.asarray(self.grid.interp_lo)
        fr = jnp.asarray(self.grid.interp_frac, self.dtype)
        lnu_int = lnu[lo] * (1 - fr) + lnu[lo + 1] * fr
        w = band_weights(self.grid, z, self._igm_on_grid(z)).astype(self.dtype)
        return (w @ lnu_int) * self.flux_scale(z)

    # -------------------------------------------------------------- public API
    def predict_photometry(self, params: dict, mode: str = "fast", tables: FastTables | None = None):
        """Observed band fluxes in AB maggies, shape (n_band,).

        Parameters
        ----------
        params : dict name -> scalar (all model parameters, fixed ones included)
        mode : {"fast", "exact"}
        tables : FastTables or TableGrid, optional
            Fast-mode tables for this galaxy's redshift (from :meth:`fast_tables`), or a
            :class:`~sedjax.model.table_grid.TableGrid` to interpolate at ``params["redshift"]``
            (a free redshift: fits pass :attr:`z_tables`' grid as an argument, so that the
            compiled programs do not hold it as a constant); by default the model's own
            (fixed redshift) or, if the redshift is free, those at ``params["redshift"]``
            interpolated on :attr:`z_tables` (nodes :data:`~sedjax.model.table_grid.FREE_Z_DLNZ`
            apart in ln(1+z) over the prior's range, all built on the first call and kept).
        """
        p = self._cast(params)
        if mode == "exact":
            return self._photometry_exact(p)
        if mode != "fast":
            raise ValueError(f"mode must be 'fast' or 'exact', got {mode!r}")
        if tables is None and self._tables is None and self.z_tables is not None:
            tables = self.z_tables.grid()
        if isinstance(tables, TableGrid):
            return self._photometry_on_grid(p, tables)
        if tables is None:
            tables = self._tables if self._tables is not None else self.fast_tables(p["redshift"])
        return self._photometry_fast(p, tables)

    def _photometry_on_grid(self, p, grid: TableGrid):
        """Fast photometry at a sampled redshift from the node grid: only the two nodes around
        z and, of those, only the two metallicities around the sampled one are read (the others
        have zero weight), then interpolated — a third of the table per evaluation, which is
        what a vmapped batch of draws gathers and moves through memory."""
        z = p["redshift"]
        i, t = node_bracket(grid, z)
        m_idx, m_frac = met_interp(self._lgmet(p), self._ssp_lgmet)
        slab = grid.wave_eff_rest_aa.shape[1] * grid.wave_eff_rest_aa.shape[2]  # bands x sub-bins
        scale = self.flux_scale(z)

        def pick(a):  # (n_z, rows, n_met * slab) -> (rows, 2 * slab) at z, metallicities m_idx, m_idx + 1
            start = (i.astype(jnp.int32), jnp.int32(0), (m_idx * slab).astype(jnp.int32))
            s = jax.lax.dynamic_slice(a, start, (2, a.shape[1], 2 * slab))
            return (s[0] * (1 - t) + s[1] * t) * scale

        wave = grid.wave_eff_rest_aa[i] * (1 - t) + grid.wave_eff_rest_aa[i + 1] * t
        mass_young, mass_old = mass_per_age_bin(self.spec.mean_sfh_type, self.spec.norm_param, p, self._bins,
                                                cosmology.age_of_universe_gyr(z))
        w = jnp.stack([1 - m_frac, m_frac])
        shape = wave.shape
        t_young, t_old = self._dust(wave.reshape(-1), p)
        return band_flux(mass_young[: self._n_young], mass_old[self._first_old :], w, t_young.reshape(shape),
                         t_old.reshape(shape), pick(grid.young_band_flux), pick(grid.old_band_flux))

    def predict_spectrum(self, params: dict):
        """Observed spectrum over the whole SSP grid.

        Returns
        -------
        wave_obs_aa : (n_wave,) observed wavelength (1+z) λ_rest, Angstrom
        fnu_maggies : (n_wave,) observed f_ν in maggies (× 3.631e-20 for erg/s/cm²/Hz)
        """
        p = self._cast(params)
        z = p["redshift"]
        mass_young, mass_old = self.mass_per_age_bin(p)
        wave = jnp.asarray(self.ssp.ssp_wave, self.dtype)
        flux = jnp.asarray(self.ssp.ssp_flux[:, : self._bins.n_age], self.dtype)
        lnu = self._rest_lnu_native(p, mass_young, mass_old, flux, wave)
        wave_obs = wave * (1.0 + z)
        fnu = lnu * self.flux_scale(z)
        if self.igm:
            fnu = fnu * igm.igm_transmission(wave_obs, z)
        return wave_obs, fnu

    def derived(self, params: dict) -> dict:
        """Derived physical quantities (scalars).

        Returns
        -------
        dict with ``log_mass_formed`` (log10 M☉ formed in total), ``log_mass_surviving``
        (log10 M☉ in living stars and remnants per the SSP's ``ssp_mass_remaining``; NaN if
        the grid lacks it), ``sfr_10myr`` and ``sfr_100myr`` (mean SFR over the last 10 and
        100 Myr, M☉/yr), ``mass_weighted_age_gyr``; with a nebular grid also
        ``lum_<line>_lsun``: intrinsic (unattenuated) luminosities of Hα, Hβ,
        [O III] 5007 and [O II] 3727 in L☉.
        """
        p = self._cast(params)
        z = p["redshift"]
        t_obs = cosmology.age_of_universe_gyr(z)
        mass_young, mass_old = mass_per_age_bin(
            self.spec.mean_sfh_type, self.spec.norm_param, p, self._bins, t_obs
        )
        mass = mass_young + mass_old
        total = jnp.sum(mass)
        sub = sfh_mass_in_intervals(
            self.spec.mean_sfh_type,
            p,
            jnp.asarray([0.0, T_BIRTH_CLOUD_GYR, 0.1], self.dtype),
            t_obs,
        )
        unnorm_total = jnp.sum(
            sfh_mass_in_intervals(self.spec.mean_sfh_type, p, jnp.asarray(self._bins.edges_gyr, self.dtype), t_obs)
        )
        sub = sub * sfh_scale(self.spec.mean_sfh_type, self.spec.norm_param, p, unnorm_total)
        safe_total = jnp.where(total > 0, total, 1.0)
        out = {
            "log_mass_formed": jnp.log10(safe_total),
            "sfr_10myr": sub[0] / 1e7,
            "sfr_100myr": (sub[0] + sub[1]) / 1e8,
            "mass_weighted_age_gyr": jnp.sum(mass * self._age_gyr) / safe_total,
        }
        if self._lines is not None:
            lum, idx = self._lines
            w = met_weights(self._lgmet(p), self._ssp_lgmet)
            all_lines = line_luminosities(lum, w, mass)
            for name, ii in idx.items():
                out[f"lum_{name}_lsun"] = sum(all_lines[i] for i in ii)
        if self._mass_remaining is None:
            out["log_mass_surviving"] = jnp.asarray(jnp.nan, self.dtype)
        else:
            idx, frac = met_interp(self._lgmet(p), self._ssp_lgmet)
            r0, r1 = take_two_metallicities(self._mass_remaining, idx)
            surv = jnp.sum(mass * ((1 - frac) * r0 + frac * r1))
            out["log_mass_surviving"] = jnp.log10(jnp.where(surv > 0, surv, 1.0))
        return out
