"""bench_map's record (structure and internal consistency, never timings): a tiny run."""

import numpy as np
import pytest

from sedjax.bench.map import mock_batch, run_map_benchmark


def test_mock_batch_is_seeded_and_noisy(default_model):
    a = mock_batch(default_model, 4, seed=1, frac_err=0.1)
    b = mock_batch(default_model, 4, seed=1, frac_err=0.1)
    np.testing.assert_array_equal(a["flux"], b["flux"])
    assert a["flux"].shape == (4, len(default_model.bands)) and a["tables"] is None
    np.testing.assert_allclose(a["redshift"], default_model.fixed_redshift)
    assert not np.array_equal(a["flux"], mock_batch(default_model, 4, seed=2)["flux"])


@pytest.mark.slow  # two compiled programs (LM and L-BFGS), ~1-2 min on 2 cores
def test_bench_map_record(model_cfg, ssp_path, tmp_path, checks):
    cfg = {"n_galaxies": 4, "n_reference": 3, "reference_starts": 2, "library_size": 50, "frac_err": 0.1, "seed": 0}
    out = run_map_benchmark(model_cfg, ssp_path, cfg, {"mode": "fast", "sys_frac": 0.0},
                            {"n_starts": 1, "n_library_starts": 1, "lm_steps": 5})
    assert out["n_galaxies"] == 4 and out["lm_options"]["optimizer"] == "lm"
    assert out["lm_options"]["lm_steps"] == 5 and out["reference"]["n_starts"] == 2
    for block in (out["lm"], out["reference"]):
        assert checks.is_time(block["compile_s"]) and checks.is_time(block["run_s"])
        np.testing.assert_allclose(block["gal_per_min"], 60 * (4 if block is out["lm"] else 3) / block["run_s"])
    acc = out["accuracy"]
    assert acc["n_galaxies"] == 3 and 0.0 <= acc["frac_within_tol"] <= 1.0
    assert acc["n_worse"] == round(3 * (1 - acc["frac_within_tol"]))
    q = acc["delta_logp_quantiles"]
    assert q["0.0"] <= q["0.5"] <= q["1.0"]
    checks.provenance(out["provenance"])
    assert checks.roundtrip(tmp_path, out, "map")["benchmark"] == "map"
