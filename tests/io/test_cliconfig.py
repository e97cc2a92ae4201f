"""Nested ``snakemake --config`` overrides are typed before schema validation."""

import math
import subprocess
from pathlib import Path

from sedjax.io.cliconfig import coerce_scalars

ROOT = Path(__file__).resolve().parents[2]


def test_coerce_scalars_types_yaml_scalars_and_keeps_strings():
    cfg = {
        "ssp": {"nebular": {"enabled": "true", "log_u": "-2.5"}, "name": "bc03_miles_kroupa", "url": "null"},
        "mock": {"n_galaxies": "1000", "noise": {"frac_err": "1e-1"}},
        "model": {"bands": ["sdss_u", "2mass_j"], "igm": "False"},
        "x": {"inf": ".inf", "typed": 3.5, "flag": True},
    }
    out = coerce_scalars(cfg)
    assert out["ssp"]["nebular"] == {"enabled": True, "log_u": -2.5}
    assert out["ssp"]["name"] == "bc03_miles_kroupa" and out["ssp"]["url"] is None
    assert out["mock"]["n_galaxies"] == 1000 and isinstance(out["mock"]["n_galaxies"], int)
    assert out["mock"]["noise"]["frac_err"] == 0.1
    assert out["model"]["bands"] == ["sdss_u", "2mass_j"] and out["model"]["igm"] is False
    assert math.isinf(out["x"]["inf"]) and out["x"]["typed"] == 3.5 and out["x"]["flag"] is True


def test_nested_config_override_passes_the_schema_in_a_dry_run():
    """The nebular switch of docs/workflow.md must validate (it failed as 'true' is not boolean)."""
    out = subprocess.run(
        ["snakemake", "-n", "--cores", "1", "--config", "ssp={nebular: {enabled: true, log_u: -2.5}}",
         "mock={n_galaxies: 10}", "--", "data/ssp/ssp_bc03_miles_kroupa_wNE_logU-2.5.h5"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "add_nebular" in out.stdout + out.stderr


def test_only_the_cli_overrides_are_coerced():
    """Strings from config files (quoted in YAML on purpose) stay strings; --config values are typed."""
    cfg = {"catalog": {"id": "123", "redshift": "1e-3"}, "ssp": {"nebular": {"enabled": "true"}, "name": "2"}}
    out = coerce_scalars(cfg, only={"ssp": {"nebular": {"enabled": "true"}}})
    assert out["catalog"] == {"id": "123", "redshift": "1e-3"} and out["ssp"]["name"] == "2"
    assert out["ssp"]["nebular"]["enabled"] is True


def test_quoted_column_name_in_a_configfile_passes_the_schema(tmp_path):
    """A catalogue column named "123" (quoted in YAML) must stay a string through the Snakefile."""
    cfgfile = tmp_path / "quoted.yaml"
    cfgfile.write_text('catalog:\n  id: "123"\n')
    out = subprocess.run(
        ["snakemake", "-n", "--quiet", "rules", "--configfile", str(cfgfile), "--config", "mock={n_galaxies: 10}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
