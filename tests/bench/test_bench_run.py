"""sedjax.bench.run: a benchmark job's record (tiny settings; structure, never timings)."""

import pytest

from sedjax.bench.run import BENCHMARK_NAMES, run_benchmark

TINY = {"repeats": 2, "seed": 0, "batch_sizes": [1, 2], "loop_max": 1, "grad_batch": 2}


def test_unknown_benchmark_is_refused_before_any_work(model_cfg):
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        run_benchmark("nope", model_cfg, "no-such-grid.h5", "cpu", TINY)
    assert BENCHMARK_NAMES == ("jit", "grad", "vmap", "cache", "peer")


def test_run_benchmark_vmap_record(model_cfg, ssp_path, tmp_path, checks):
    runtime = {"device": "cpu", "threads": 1, "compilation_cache": None}
    r = checks.roundtrip(tmp_path, run_benchmark("vmap", model_cfg, ssp_path, "cpu", TINY, threads=1,
                                                 runtime=runtime), "vmap")
    assert r["benchmark"] == "vmap" and [row["batch"] for row in r["rows"]] == [1, 2]
    assert r["device"] == "cpu" and r["runtime"] == runtime and r["model_config"] == model_cfg
    assert checks.is_time(r["wall_s"])
    assert set(r["params"]) >= {"sfh_dpl_tau_gyr", "redshift"} and r["params"]["redshift"] == pytest.approx(0.1)
    checks.provenance(r["provenance"])
    # the cache state from before the model's construction, not the body's own
    assert r["provenance"]["compilation_cache"]["state"] in ("disabled", "cold", "warm")
    assert list(r)[-4:] == ["device", "runtime", "model_config", "wall_s"]
