"""The real example (config/real_example.yaml, data/examples/): a file catalogue through the workflow.

Fast: what the DAG schedules (no truth-based rules), common.smk's catalogue helpers, and a
catalogue mistake stopping the dry run at parse time. Slow: a tiny real run (3 RESOLVE
galaxies, MAP) that ends with its figures and report.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testlib import workflow_copy
from workflow_config import REPO, load_common_smk, validated

TRUTH_RULES = ("calibration", "plot_recovery", "plot_calibration", "plot_backend_comparison", "grad_field",
               "mock_catalog")


def _merged(*overrides) -> dict:
    """config.yaml with real_example.yaml (and ``overrides``) merged over it, as --configfile does."""
    def merge(a, b):
        for k, v in b.items():
            if isinstance(v, dict) and isinstance(a.get(k), dict):
                merge(a[k], v)
            else:
                a[k] = v
        return a

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    merge(cfg, yaml.safe_load((REPO / "config" / "real_example.yaml").read_text()))
    for o in overrides:
        merge(cfg, o)
    return cfg


def _workflow_copy(tmp_path: Path, cfg: dict, ssp_dir=None) -> Path:
    return workflow_copy(REPO, tmp_path / "wf", cfg, ssp_dir=ssp_dir, data_dirs=("examples",))


def _snakemake(args, cwd, timeout):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_common_helpers_on_the_real_example():
    ns = load_common_smk(validated(_merged()))
    assert ns["catalog_is_file"]() and not ns["has_truths"]()
    assert ns["catalog_path"]() == "results/catalog/catalog.parquet"
    assert ns["catalog_n_galaxies"]() == 32  # every example galaxy has a redshift and a usable band
    assert ns["mock_redshift"]() is None
    figs = ns["figure_outputs"]()
    assert "results/figures/catalogue_map.png" in figs and "results/figures/sed_0.png" in figs
    assert not any(k in f for f in figs for k in ("recovery", "calibration", "grad_field", "jit_speedup"))
    assert "results/calibration/coverage.parquet" not in ns["final_outputs"]()
    # the default (mock) config keeps today's outputs
    mock = load_common_smk(validated(yaml.safe_load((REPO / "config" / "config.yaml").read_text())))
    assert mock["catalog_path"]() == "results/mock/catalog.parquet"
    assert "results/figures/calibration.png" in mock["figure_outputs"]()


def test_dry_run_schedules_no_truth_rules(tmp_path):
    wf = _workflow_copy(tmp_path, _merged())
    r = _snakemake(["-n", "--quiet", "rules"], wf, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    for rule in ("prepare_catalog", "fit_batch", "fit_single", "catalogue_ppc", "plot_catalogue", "plot_sed", "report"):
        assert rule in out, rule
    for rule in TRUTH_RULES:
        assert f"\n{rule} " not in out, rule


def test_catalogue_mistake_stops_the_dry_run(tmp_path):
    cfg = _merged({"catalog": {"bands": {"sdss_g": {"mag": "gmag", "mag_err": "e_gmag_typo"}}}})
    wf = _workflow_copy(tmp_path, cfg)
    r = _snakemake(["-n", "--quiet", "rules"], wf, timeout=300)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "e_gmag_typo" in out and "resolve_subset.csv" in out, out[-3000:]
    assert not (wf / "results").exists()


@pytest.mark.slow
@pytest.mark.workflow
@pytest.mark.timeout(900)
def test_tiny_real_example_ends_with_figures_and_report(tmp_path, ssp_path):
    tiny = {
        "catalog": {"rows": [0, 3]},
        "backends": ["map"],
        "fit_single": {"ids": [0]},
        "backend_options": {"map": {"n_starts": 2, "n_steps": 40}},
        "batch": {"catalogue_size": 3, "chunk_size": 3,
                  "backend_options": {"map": {"n_starts": 2, "n_steps": 40, "max_linesearch_steps": 5}}},
        "figures": {"sed": {"n_draws": 5}},
    }
    wf = _workflow_copy(tmp_path, _merged(tiny), ssp_dir=Path(ssp_path).parent)
    r = _snakemake(["--cores", "2"], wf, timeout=800)
    assert r.returncode == 0, f"snakemake failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    res = wf / "results"
    for fig in ("sed_0", "corner_map_0", "corner_all_0", "catalogue_map"):
        assert (res / "figures" / f"{fig}.png").stat().st_size > 5000, fig
    assert not (res / "calibration").exists() and not (res / "mock").exists()
    md = (res / "summary.md").read_text()
    assert "figures/catalogue_map.png" in md and "figures/sed_0.png" in md
    assert "not scheduled" in md and "Per-band residuals" in md and "resolve_subset.csv" in md
    import pandas as pd

    ppc = pd.read_parquet(res / "catalog" / "ppc_map.parquet")
    assert sorted(ppc["name"].unique()) == ["rf0025", "rf0065", "rf0092"] and ppc["resid_sigma"].notna().any()
