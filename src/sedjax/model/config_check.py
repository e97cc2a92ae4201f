"""Parse-time checks of the workflow config's model (called by the Snakefile right after ``validate``).

The schema checks types and keys of the config itself; what it cannot check are the
model's own names and values, which would otherwise fail ~15 s into the first job:

* ``model.params``: a key that is not a parameter of ``model.sfh`` (with the closest
  names), a prior with low > high, a value outside the parameter's physical domain
  (redshift 0, a negative optical depth, …: :mod:`sedjax.model.domains`);
* ``model.bands``: a band that is not a known filter (with the closest names) or that
  looks like a path;
* ``mock.redshift``: a per-galaxy redshift prior outside the redshift domain;
* ``benchmarks.posterior``: its ``params`` as for ``model.params`` (dpl SFH), and a ``truth``
  value for each of their free parameters, none for another name.

Every message starts with the config key to fix. Nothing here reads files or builds a model.
"""

from __future__ import annotations

from sedjax.model.domains import check_domain
from sedjax.model.params import Parameters
from sedjax.model.priors import prior_from_config
from sedjax.photometry.filters import resolve_filter_name


class ConfigError(ValueError):
    """A config value the workflow would fail on later, found at parse time."""


def check_config(config: dict) -> None:
    """Raise :class:`ConfigError` naming the config key when the model section cannot work."""
    model = config.get("model") or {}
    try:
        Parameters.from_config({"sfh": model.get("sfh", "dpl"), "params": dict(model.get("params") or {})})
    except (ValueError, TypeError) as e:
        raise ConfigError(f"config model.params (sfh {model.get('sfh', 'dpl')!r}): {e}") from None
    bands = list(model.get("bands") or [])
    if not bands:
        raise ConfigError("config model.bands: empty; list at least one filter (e.g. sdss_r)")
    for band in bands:
        try:
            resolve_filter_name(str(band))
        except (KeyError, ValueError) as e:
            msg = e.args[0] if e.args else str(e)
            raise ConfigError(f"config model.bands: {msg}") from None
    mock_z = (config.get("mock") or {}).get("redshift")
    if mock_z is not None:
        try:
            check_domain("redshift", prior_from_config("redshift", mock_z))
        except ValueError as e:
            raise ConfigError(f"config mock.redshift: {e}") from None
    posterior = (config.get("benchmarks") or {}).get("posterior")
    if posterior and posterior.get("params"):
        try:
            spec = Parameters.from_config({"sfh": "dpl", "params": dict(posterior["params"])})
        except (ValueError, TypeError) as e:
            raise ConfigError(f"config benchmarks.posterior.params: {e}") from None
        truth = set(posterior.get("truth") or {})
        missing, extra = sorted(set(spec.free_params) - truth), sorted(truth - set(spec.free_params))
        if missing or extra:
            raise ConfigError(f"config benchmarks.posterior.truth: give a value for each free parameter of its params; "
                              f"missing {missing}, not free {extra}")
