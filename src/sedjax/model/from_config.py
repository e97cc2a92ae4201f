"""Build specs and models from the workflow's YAML config sections (no Snakemake import)."""

from __future__ import annotations

import numpy as np

from sedjax.model.sed_model import SEDModel
from sedjax.model.params import Parameters
from sedjax.model.priors import prior_from_config, prior_range
from sedjax.ssp.grid import load_ssp


def spec_from_config(model_cfg: dict) -> Parameters:
    """``Parameters`` from the ``model:`` config section (``sfh`` + ``params``)."""
    return Parameters.from_config({"sfh": model_cfg.get("sfh", "dpl"), "params": model_cfg["params"]})


def model_from_config(model_cfg: dict, ssp_path, z_range=None, dtype="float64", **kwargs) -> SEDModel:
    """``SEDModel`` from the ``model:`` config section and an SSP grid file."""
    from sedjax.ssp.nebular.lines import has_emission_lines, load_emission_lines

    spec = spec_from_config(model_cfg)
    return SEDModel(
        spec,
        load_ssp(ssp_path),
        bands=model_cfg["bands"],
        dust_law=model_cfg.get("dust_law", "powerlaw"),
        igm=model_cfg.get("igm", True),
        z_range=z_range,
        dtype=dtype,
        emission_lines=load_emission_lines(ssp_path) if has_emission_lines(ssp_path) else None,
        **kwargs,
    )


def redshift_range(model_cfg: dict, mock_redshift=None, catalog_redshift=None):
    """z range a model must support for the data it fits, or None (the model's own prior).

    The union of the model's redshift (its fixed value or prior range: its own fast tables
    must stay on the grid), the mock's per-galaxy redshift prior ``mock_redshift`` (config
    ``mock.redshift``) and the finite values of ``catalog_redshift`` (the redshifts of the
    catalogue the fits read: a user's file catalogue sets them per galaxy). None when
    neither ``mock_redshift`` nor ``catalog_redshift`` is given.
    """
    if mock_redshift is None and catalog_redshift is None:
        return None
    lo, hi = prior_range(prior_from_config("redshift", model_cfg["params"]["redshift"]))
    if mock_redshift is not None:
        m_lo, m_hi = prior_range(prior_from_config("redshift", mock_redshift))
        lo, hi = min(lo, m_lo), max(hi, m_hi)
    if catalog_redshift is not None:
        z = np.asarray(catalog_redshift, dtype=np.float64)
        z = z[np.isfinite(z)]
        if z.size:
            lo, hi = min(lo, float(z.min())), max(hi, float(z.max()))
    return (lo, hi)
