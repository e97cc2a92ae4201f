"""bench_hmc's record (structure and internal consistency, never timings) and its choice of kernel."""

import pandas as pd
import pytest

from sedjax.bench.hmc import best_kernel, coverage


def _calib(c68, c95, per_s):
    return {"calibration": {"cov68": c68, "cov95": c95}, "converged_per_s": per_s}


def test_best_kernel_is_the_fastest_calibrated_one():
    kernels = {"fast_overconfident": _calib(0.55, 0.90, 9.0), "nuts": _calib(0.67, 0.94, 1.0),
               "chees": _calib(0.70, 0.96, 3.0)}
    assert best_kernel(kernels, 0.05) == "chees"
    assert best_kernel(kernels, 0.20) == "fast_overconfident"
    assert best_kernel({"a": _calib(0.5, 0.8, 1.0)}, 0.05) is None


def test_coverage_is_the_workflow_calibration_over_converged_rows():
    # quantity a: truths 0, 0, 5, 0 in [-1, 1] (68 %) and [-3, 3] (95 %); row 3 failed
    n = 4
    table = pd.DataFrame({"id": range(n), "backend": "hmc", "status": ["ok", "ok", "ok", "failed"], "n_samples": [100] * n, "true_a": [0.0, 0.0, 5.0, 0.0],
                          "a_p2_5": [-3.0] * n, "a_p16": [-1.0] * n, "a_median": [0.0] * n, "a_p84": [1.0] * n,
                          "a_p97_5": [3.0] * n, "a_rank": [0.5, 0.5, 1.0, 0.5]})
    c = coverage(table)
    assert c["n_quantities"] == 1
    assert c["cov68"] == pytest.approx(2 / 3) and c["cov95"] == pytest.approx(2 / 3)


@pytest.mark.slow  # two small auto batches through the HMC stage
def test_bench_hmc_record(model_cfg, ssp_path, checks, tmp_path):
    from sedjax.bench.hmc import run_hmc_benchmark
    from sedjax.catalog.mock import generate_mock
    from sedjax.catalog.table import write_catalog
    from sedjax.model.from_config import model_from_config

    cat_path = tmp_path / "catalog.parquet"
    write_catalog(generate_mock(model_from_config(model_cfg, ssp_path), 3, seed=4), cat_path)
    # the population: the galaxies IS rejects among the first 3 (k_max -1: all of them), at most 2
    cfg = {"n_galaxies": 2, "coverage_tol": 0.05, "population": "is_rejected", "pool_size": 3,
           "kernels": {"nuts": {"hmc_kernel": "nuts"}, "chees": {"hmc_kernel": "chees", "hmc_draws_per_chain": 40}}}
    options = {"n_samples": 40, "n_draws": 100, "n_adapt": 0, "n_starts": 1, "n_library_starts": 0, "lm_steps": 3,
               "n_chains": 2, "n_warmup": 10, "hmc_draws_per_chain": 20, "max_num_doublings": 3, "k_max": -1.0}
    out = run_hmc_benchmark(model_cfg, ssp_path, cat_path, cfg, {"mode": "fast", "sys_frac": 0.0, "seed": 0}, options)
    n = 2
    assert set(out["kernels"]) == {"nuts", "chees"} and out["n_galaxies"] == n
    assert out["population"] == "is_rejected" and out["pool_size"] == 3 and out["ids"] == [0, 1]
    for name, rec in out["kernels"].items():
        assert rec["options"]["hmc_kernel"] == name and rec["options"]["k_max"] == -1.0
        assert rec["options"]["hmc_draws_per_chain"] == (20 if name == "nuts" else 40)  # the entry over the batch's
        assert rec["frac_hmc_path"] == 1.0  # IS accepted none: every galaxy took the HMC path
        assert 0 <= rec["n_converged"] <= n and checks.is_time(rec["run_s"])
        assert rec["converged_per_s"] == pytest.approx(rec["n_converged"] / rec["run_s"])
        # at least one leapfrog step per warm-up step and per draw, on each of the 2 chains
        assert rec["gradients_per_galaxy_mean"] >= 2 * (10 + rec["options"]["hmc_draws_per_chain"])
        assert rec["leapfrog_per_draw_mean"] <= 2**3
        assert sum(rec["failure_reasons"].values()) == n - rec["n_converged"]
        c = rec["calibration"]
        if rec["n_converged"]:
            assert 0.0 <= c["cov68"] <= c["cov95"] <= 1.0
    assert out["best"] in (None, "nuts", "chees")
    checks.provenance(out["provenance"])
    assert checks.roundtrip(tmp_path, out, "hmc")["benchmark"] == "hmc"
