"""Model parameter specification: which parameters exist, which are free, their priors.

``Parameters(mean_sfh_type="dpl", name=prior, ...)`` holds one prior (or ``Fixed``) per
model parameter. Parameter values travel as a dict ``name -> scalar`` (or ``(n,)`` arrays
for a batch). Free parameters, in the order given, define the unconstrained vector ``u``
used by every inference backend.

Parameters by SFH family (units in the names; see :mod:`sedjax.physics.sfh` for conventions):

- all: ``met_logzsol`` (log10 Z/Z☉), ``dust_tau_diff``, ``dust_tau_bc`` (optical depths at
  5500 Å), ``dust_slope`` (power-law index), ``redshift``.
- ``dpl``: ``sfh_dpl_tau_gyr``, ``sfh_dpl_alpha``, ``sfh_dpl_beta`` and exactly one of
  ``sfh_dpl_log_peak_sfr`` (log10 M☉/yr) or ``sfh_log_mass_formed`` (log10 M☉).
- ``delayed_tau``: ``sfh_log_mass_formed``, ``sfh_delayed_tau_gyr``, ``sfh_delayed_tstart_gyr``.
- ``constant``: ``sfh_log_mass_formed``, ``sfh_const_duration_gyr``.

Every ``Fixed`` value and every prior support is checked against the parameter's physical
domain (:data:`sedjax.model.domains.DOMAINS`) when a ``Parameters`` is built.
"""

from __future__ import annotations

import difflib

import jax
import jax.numpy as jnp

from sedjax.model.domains import check_domain
from sedjax.model.priors import Fixed, prior_from_config, prior_to_config

COMMON_PARAMS = ("met_logzsol", "dust_tau_diff", "dust_tau_bc", "dust_slope", "redshift")
SFH_PARAMS = {
    "dpl": ("sfh_dpl_tau_gyr", "sfh_dpl_alpha", "sfh_dpl_beta"),
    "delayed_tau": ("sfh_log_mass_formed", "sfh_delayed_tau_gyr", "sfh_delayed_tstart_gyr"),
    "constant": ("sfh_log_mass_formed", "sfh_const_duration_gyr"),
}
DPL_NORMALISATIONS = ("sfh_dpl_log_peak_sfr", "sfh_log_mass_formed")
OPTIONAL_DEFAULTS = {"dust_slope": -0.7, "dust_tau_bc": 0.0, "dust_tau_diff": 0.0}


class Parameters:
    """Priors for every parameter of one model.

    Parameters
    ----------
    mean_sfh_type : {"dpl", "delayed_tau", "constant"}
        Star-formation-history family.
    **priors
        ``name=prior`` for each parameter (``Uniform``, ``LogUniform``, ``Normal``,
        ``Fixed``, a bare number meaning ``Fixed``, or the YAML dict form).
        ``dust_slope``, ``dust_tau_bc`` and ``dust_tau_diff`` default to Fixed(-0.7),
        Fixed(0), Fixed(0).
    """

    def __init__(self, mean_sfh_type: str = "dpl", **priors):
        if mean_sfh_type not in SFH_PARAMS:
            raise ValueError(
                f"mean_sfh_type={mean_sfh_type!r} is not known; use one of {sorted(SFH_PARAMS)}"
            )
        self.mean_sfh_type = mean_sfh_type
        allowed = set(COMMON_PARAMS) | set(SFH_PARAMS[mean_sfh_type])
        if mean_sfh_type == "dpl":
            allowed |= set(DPL_NORMALISATIONS)
        for name in priors:
            if name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise ValueError(
                    f"parameter {name!r} is not a parameter of the {mean_sfh_type!r} model.{hint} "
                    f"Known: {', '.join(sorted(allowed))}"
                )
        if mean_sfh_type == "dpl":
            given = [n for n in DPL_NORMALISATIONS if n in priors]
            if len(given) != 1:
                raise ValueError(
                    "the dpl SFH needs exactly one normalisation: sfh_dpl_log_peak_sfr (log10 "
                    "peak SFR, M☉/yr) or sfh_log_mass_formed (log10 M☉ formed); "
                    f"got {given or 'neither'}"
                )
        full = {k: Fixed(v) for k, v in OPTIONAL_DEFAULTS.items()}
        full.update({k: prior_from_config(k, v) for k, v in priors.items()})
        required = set(COMMON_PARAMS) | set(SFH_PARAMS[mean_sfh_type])
        missing = sorted(required - set(full))
        if missing:
            raise ValueError(f"missing parameter(s) for the {mean_sfh_type!r} model: {missing}")
        for k, p in full.items():
            check_domain(k, p)
        # keep the user's order for free parameters
        self.priors = {k: full[k] for k in list(priors) + [k for k in full if k not in priors]}
        self.free_params = [k for k, p in self.priors.items() if not isinstance(p, Fixed)]
        self.fixed_params = {k: p.value for k, p in self.priors.items() if isinstance(p, Fixed)}

    # ------------------------------------------------------------------ config
    @classmethod
    def from_config(cls, cfg: dict) -> "Parameters":
        """Build from the YAML form ``{sfh: dpl, params: {name: prior, ...}}``."""
        return cls(cfg.get("sfh", "dpl"), **dict(cfg.get("params", {})))

    def to_config(self) -> dict:
        return {
            "sfh": self.mean_sfh_type,
            "params": {k: prior_to_config(p) for k, p in self.priors.items()},
        }

    def __repr__(self):
        body = ", ".join(f"{k}={p!r}" for k, p in self.priors.items())
        return f"Parameters(mean_sfh_type={self.mean_sfh_type!r}, {body})"

    @property
    def n_free(self) -> int:
        return len(self.free_params)

    @property
    def norm_param(self) -> str:
        """Name of the SFH normalisation parameter."""
        if self.mean_sfh_type == "dpl" and "sfh_dpl_log_peak_sfr" in self.priors:
            return "sfh_dpl_log_peak_sfr"
        return "sfh_log_mass_formed"

    # ----------------------------------------------------------------- sampling
    def with_fixed(self, free: dict) -> dict:
        """Complete a dict of free values with the fixed ones."""
        out = {k: jnp.asarray(v) for k, v in self.fixed_params.items()}
        out.update(free)
        return out

    def sample(self, key) -> dict:
        """One prior draw: dict name -> scalar (fixed parameters included)."""
        keys = jax.random.split(key, max(self.n_free, 1))
        free = {n: self.priors[n].sample(k) for n, k in zip(self.free_params, keys)}
        return self.with_fixed(free)

    def sample_batch(self, key, n: int) -> dict:
        """``n`` prior draws: dict name -> (n,) array (fixed parameters broadcast)."""
        keys = jax.random.split(key, max(self.n_free, 1))
        out = {k: jnp.full((n,), v) for k, v in self.fixed_params.items()}
        out.update({nm: self.priors[nm].sample(k, (n,)) for nm, k in zip(self.free_params, keys)})
        return out

    def log_prior(self, params: dict):
        """Sum of log prior densities of the free parameters (−inf outside support)."""
        total = 0.0
        for n in self.free_params:
            total = total + self.priors[n].log_prob(params[n])
        return total

    # --------------------------------------------------------------- bijection
    def to_unconstrained(self, params: dict):
        """Free parameters (physical) -> ``u`` of shape (n_free,)."""
        return jnp.stack([self.priors[n].to_unconstrained(params[n]) for n in self.free_params])

    def from_unconstrained(self, u):
        """``u`` (n_free,) -> (params dict with fixed values, log|det dparams/du|)."""
        free, logdet = {}, 0.0
        for i, n in enumerate(self.free_params):
            x, ld = self.priors[n].from_unconstrained(u[i])
            free[n] = x
            logdet = logdet + ld
        return self.with_fixed(free), logdet

    def log_prior_unconstrained(self, u):
        """Prior density of ``u``: log p(x(u)) + log|dx/du|."""
        params, logdet = self.from_unconstrained(u)
        return self.log_prior(params) + logdet
