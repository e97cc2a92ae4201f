"""Defaults live in config/schema.yaml only: validate() fills every missing block, and the
rules read config values directly (a config without `batch:` / `figures:` / `benchmarks:` runs)."""

import re
import shutil
import subprocess
import sys

import pytest
import yaml
from snakemake_interface_common.exceptions import WorkflowError

from workflow_config import REPO, load_common_smk, validated

# the values batch.smk, bench_sampler.smk and figures.smk held as BATCH_DEFAULTS,
# SAMPLER_DEFAULTS and FIGURES_DEFAULTS before the schema became their one place
OLD_BATCH = {"catalogue_size": 40, "chunk_size": 20, "bench_galaxies": 8, "backend_options": {}, "device": "cpu",
             "rank_bins": 10}
OLD_SAMPLER_OPTIONS = {"nuts": {"n_chains": 2, "n_warmup": 200, "n_samples": 200}}
OLD_FIGURES = {
    "grad_field": {"galaxy_id": 0, "x_name": "dust_tau_diff", "y_name": "met_logzsol", "n": 30, "mode": "fast",
                   "x_range": None, "y_range": None},
    "sed": {"n_draws": 100, "seed": 0},
}
MINIMAL = {"mock": {"n_galaxies": 30}, "fit_single": {"ids": [0]}}


def test_validate_fills_nested_defaults():
    cfg = validated(MINIMAL)
    assert cfg["batch"] == OLD_BATCH
    assert cfg["figures"] == OLD_FIGURES
    sampler = cfg["benchmarks"]["sampler"]
    assert sampler == {"galaxy_id": 0, "backends": None, "warm_repeats": 1, "seed": 0, "options": OLD_SAMPLER_OPTIONS}
    assert cfg["ssp"]["nebular"] == {"enabled": False, "log_u": -3.0, "velocity_dispersion_kms": 100.0}
    assert cfg["backend_options"] == {} and cfg["mock"]["redshift"] is None


def test_sampler_options_keep_the_nuts_default_beside_given_backends():
    """As SAMPLER_DEFAULTS did ({**defaults, **given} per backend): nuts stays unless given."""
    cfg = validated({"benchmarks": {"sampler": {"options": {"ns": {"n_live": 20}}}}})
    assert cfg["benchmarks"]["sampler"]["options"] == {"ns": {"n_live": 20}, **OLD_SAMPLER_OPTIONS}
    cfg = validated({"benchmarks": {"sampler": {"options": {"nuts": {"n_chains": 1}}}}})
    assert cfg["benchmarks"]["sampler"]["options"] == {"nuts": {"n_chains": 1}}


@pytest.mark.parametrize("bad", [
    {"backends": ["map", "hmc"]},
    {"backend_options": {"hmc": {}}},
    {"batch": {"backend_options": {"nust": {}}}},
    {"benchmarks": {"sampler": {"backends": ["nuts", "laplce"]}}},
    {"benchmarks": {"sampler": {"options": {"mapp": {}}}}},
    {"backend_options": {"map": 3}},
])
def test_unknown_backend_names_are_rejected(bad):
    with pytest.raises(WorkflowError, match="ValidationError"):
        validated(bad)


def test_common_smk_helpers_on_the_defaults():
    smk = load_common_smk(validated(MINIMAL))
    assert smk["batch_n_galaxies"]() == 30  # min(catalogue_size 40, 30 mock galaxies)
    assert smk["batch_n_chunks"]() == 2  # chunk_size 20
    assert smk["batch_chunk_files"]("map") == ["results/fits/batch/map/chunk_0.h5", "results/fits/batch/map/chunk_1.h5"]
    assert smk["sampler_cfg"]()["backends"] == ["nuts", "map", "laplace", "pathfinder", "vi", "ns", "is", "auto"]
    assert smk["ssp_path"]() == smk["stellar_ssp_path"]() == "data/ssp/ssp_bc03_miles_kroupa.h5"
    assert smk["report_summary"]()["nebular"] is False
    outputs = smk["final_outputs"]()
    assert "results/figures/grad_field.png" in outputs and "results/summary.html" in outputs
    assert "results/benchmarks/cpu/summary.json" in outputs


def test_common_smk_helpers_on_the_repo_config(repo_config):
    smk = load_common_smk(repo_config)
    assert smk["batch_n_chunks"]() == 2  # catalogue_size 20, chunk_size 10
    assert smk["batch_options"]("nuts") == {**repo_config["backend_options"]["nuts"],
                                            **repo_config["batch"]["backend_options"]["nuts"]}
    cfg = validated({**yaml.safe_load((REPO / "config" / "config.yaml").read_text()),
                     "ssp": {"nebular": {"enabled": True, "log_u": -2.5}}})
    smk = load_common_smk(cfg)
    assert smk["ssp_path"]() == "data/ssp/ssp_bc03_miles_kroupa_wNE_logU-2.5.h5"
    summary = smk["report_summary"]()
    assert summary["nebular"] is True and summary["ssp"] == "bc03_miles_kroupa_wNE_logU-2.5"


def test_posterior_benchmark_is_on_request_unless_enabled():
    smk = load_common_smk(validated(MINIMAL))
    cfg = smk["posterior_cfg"]()
    assert cfg["backends"] == ["nuts", "map", "laplace", "pathfinder", "vi", "ns", "is", "auto"] and cfg["reference"] == "nuts"
    assert smk["posterior_outputs"]() == []
    assert not [f for f in smk["final_outputs"]() if "posterior_" in f]
    smk = load_common_smk(validated({**MINIMAL, "backends": ["map", "vi"],
                                     "benchmarks": {"posterior": {"enabled": True, "reference": "vi"}}}))
    assert smk["posterior_cfg"]()["backends"] == ["vi", "map"]
    figures = ["results/figures/posterior_time.png", "results/figures/posterior_overlay.png"]
    assert set(figures) <= set(smk["final_outputs"]())
    assert smk["posterior_outputs"]() == ["results/benchmarks/cpu/posterior.json", *figures]


@pytest.mark.timeout(300)
def test_dry_run_with_a_config_without_optional_blocks(tmp_path):
    """`snakemake -n` on a copy of the workflow whose config/config.yaml omits batch, figures,
    benchmarks, backend_options and backends: the schema's defaults carry it."""
    wf = tmp_path / "wf"
    (wf / "config").mkdir(parents=True)
    shutil.copy2(REPO / "Snakefile", wf / "Snakefile")
    shutil.copy2(REPO / "config" / "schema.yaml", wf / "config" / "schema.yaml")
    for d in ("workflow", "scripts", "envs"):
        shutil.copytree(REPO / d, wf / d, ignore=shutil.ignore_patterns("__pycache__"))
    (wf / "config" / "config.yaml").write_text(yaml.safe_dump(MINIMAL))
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--quiet", "rules"], cwd=wf,
                       capture_output=True, text=True, timeout=240)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert counts["fit_batch"] == "16", out[-3000:]  # 8 backends x 2 chunks (30 galaxies, chunk_size 20)
    assert counts["bench"] == "5" and counts["plot_sed"] == "1" and counts["grad_field"] == "1", out[-3000:]
