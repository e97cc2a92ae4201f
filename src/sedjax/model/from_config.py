"""Build specs and models from the workflow's YAML config sections (no Snakemake import)."""

from __future__ import annotations

from sedjax.model.sed_model import SEDModel
from sedjax.model.params import Parameters
from sedjax.model.priors import prior_from_config
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


def redshift_range(model_cfg: dict, mock_redshift=None):
    """z range a model must support: the mock's per-galaxy prior if given, else None."""
    if mock_redshift is None:
        return None
    prior = prior_from_config("redshift", mock_redshift)
    if hasattr(prior, "low"):
        return (prior.low, prior.high)
    if hasattr(prior, "mu"):
        return (max(prior.mu - 5 * prior.sigma, 1e-3), prior.mu + 5 * prior.sigma)
    return (prior.value, prior.value)
