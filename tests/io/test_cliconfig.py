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
    """The README's nebular switch must validate (it failed as 'true' is not boolean)."""
    out = subprocess.run(
        ["snakemake", "-n", "--cores", "1", "--config", "ssp={nebular: {enabled: true, log_u: -2.5}}",
         "mock={n_galaxies: 10}", "--", "data/ssp/ssp_bc03_miles_kroupa_wNE_logU-2.5.h5"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "add_nebular" in out.stdout + out.stderr
