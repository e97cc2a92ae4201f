"""Parse-time config checks (issue 16): model.params typos, unknown bands, bad priors, redshift 0."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sedjax.model.config_check import ConfigError, check_config

REPO = Path(__file__).resolve().parents[2]


def _config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_passes():
    check_config(_config())


@pytest.mark.parametrize("change, words", [
    (lambda c: c["model"]["params"].__setitem__("dust_tau_dif", c["model"]["params"].pop("dust_tau_diff")),
     ["model.params", "'dust_tau_dif'", "Did you mean dust_tau_diff"]),
    (lambda c: c["model"]["params"].__setitem__("sfh_dpl_beta", {"uniform": [5.0, 1.0]}),
     ["model.params", "'sfh_dpl_beta'", "low < high"]),
    (lambda c: c["model"]["params"].__setitem__("redshift", 0.0),
     ["model.params", "'redshift'", "luminosity distance"]),
    (lambda c: c["model"].__setitem__("bands", ["sdss_u", "sdss_gg"]),
     ["model.bands", "'sdss_gg'", "sdss_g"]),
    (lambda c: c["model"].__setitem__("bands", ["../../data/sdss_u0"]),
     ["model.bands", "looks like a path"]),
    (lambda c: c["mock"].__setitem__("redshift", {"uniform": [0.0, 30.0]}),
     ["mock.redshift", "'redshift'", "physical domain"]),
    (lambda c: c.setdefault("benchmarks", {}).__setitem__("posterior", {
        "params": {"sfh_log_mass_formed": {"uniform": [7.0, 13.0]}, "dust_tau_dif": 0.3}, "truth": {}}),
     ["benchmarks.posterior.params", "'dust_tau_dif'"]),
    (lambda c: c.setdefault("benchmarks", {}).__setitem__("posterior", {
        "params": {"sfh_log_mass_formed": {"uniform": [7.0, 13.0]}, "sfh_dpl_alpha": {"uniform": [1.0, 10.0]},
                   "sfh_dpl_beta": 3.0, "sfh_dpl_tau_gyr": 5.0, "met_logzsol": 0.0, "redshift": 0.1},
        "truth": {"sfh_log_mass_formed": 10.0, "sfh_dpl_beta": 3.0}}),
     ["benchmarks.posterior.truth", "missing ['sfh_dpl_alpha']", "not free ['sfh_dpl_beta']"]),
])
def test_bad_model_config_names_the_key(change, words):
    cfg = copy.deepcopy(_config())
    change(cfg)
    with pytest.raises(ConfigError) as e:
        check_config(cfg)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_snakemake_dry_run_stops_at_parse_time(tmp_path):
    """The Snakefile calls check_config: a typo fails `snakemake -n` with the parameter's name."""
    bad = {"model": {"params": {"sfh_dpl_tau_gry": {"uniform": [0.1, 10.0]}}}}
    cfgfile = tmp_path / "bad.yaml"
    cfgfile.write_text(yaml.safe_dump(bad))
    before = set((REPO / "results").rglob("*")) if (REPO / "results").exists() else set()
    p = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--configfile", str(cfgfile)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "sfh_dpl_tau_gry" in out and "Did you mean" in out and "sfh_dpl_tau_gyr" in out
    after = set((REPO / "results").rglob("*")) if (REPO / "results").exists() else set()
    assert after == before
