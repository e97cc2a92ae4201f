"""sedjax.bench.cache and its child program sedjax.bench.cache_child (run with ``python -m``)."""

import pytest

from sedjax.bench.cache import bench_cache, run_cache_child


def test_child_failure_is_raised_with_its_stderr():
    """The child runs as ``python -m sedjax.bench.cache_child``; its failure carries its traceback."""
    with pytest.raises(RuntimeError, match="KeyError"):
        run_cache_child({}, timeout=120)


@pytest.mark.slow
def test_bench_cache(ssp_path, model_cfg, tmp_path, checks):
    r = checks.roundtrip(tmp_path, bench_cache(model_cfg, ssp_path, threads=1), "cache")
    for run in ("cold", "warm"):
        for k in ("first_predict_s", "first_grad_s", "first_result_s", "model_build_s", "process_wall_s"):
            assert checks.is_time(r[run][k]), (run, k)
        assert r[run]["grad_finite"] is True
    assert r["cache_entries_after_cold"] > 0
    assert checks.is_time(r["ratios"]["cold_over_warm_first_result"])
    checks.provenance(r["provenance"])


def test_cache_dir_must_be_empty(ssp_path, model_cfg, tmp_path):
    (tmp_path / "stale").write_text("x")
    with pytest.raises(ValueError, match="must be empty"):
        bench_cache(model_cfg, ssp_path, threads=1, cache_dir=tmp_path)
