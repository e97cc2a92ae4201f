"""sedjax.bench.run: a benchmark job's record (tiny settings; structure, never timings)."""

import pytest

from sedjax.bench.run import BENCHMARK_NAMES, run_batch_benchmark, run_benchmark, run_sampler_benchmark

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


@pytest.fixture(scope="module")
def catalog_path(default_model, tmp_path_factory):
    from sedjax.catalog.mock import generate_mock
    from sedjax.catalog.table import write_catalog

    path = tmp_path_factory.mktemp("cat") / "catalog.parquet"
    write_catalog(generate_mock(default_model, 3, 1), path)
    return str(path)


def test_run_sampler_benchmark_record(model_cfg, ssp_path, catalog_path, tmp_path, checks):
    cfg = {"galaxy_id": 1, "backends": ["vi"], "warm_repeats": 1, "seed": 0, "options": {"vi": {"n_samples": 20}}}
    fit_cfg = {"mode": "fast", "sys_frac": 0.0}
    r = checks.roundtrip(tmp_path, run_sampler_benchmark(model_cfg, ssp_path, catalog_path, cfg, fit_cfg,
                                                         {"vi": {"n_steps": 10, "n_samples": 50}}, "cpu"), "sampler")
    vi = r["backends"]["vi"]
    assert vi["options"]["n_steps"] == 10 and vi["options"]["n_samples"] == 20  # the benchmark's override wins
    assert r["galaxy_id"] == 1 and checks.is_time(vi["cold_s"]) and vi["warm"]["n"] == 1
    assert r["device"] == "cpu" and r["model_config"] == model_cfg and checks.is_time(r["wall_s"])
    checks.provenance(r["provenance"])
    with pytest.raises(ValueError, match="not in the catalogue.*benchmarks.sampler.galaxy_id"):
        run_sampler_benchmark(model_cfg, ssp_path, catalog_path, {**cfg, "galaxy_id": 99}, fit_cfg, {}, "cpu")


@pytest.mark.slow  # ~60 s: every galaxy fitted batched and looped
def test_run_batch_benchmark_record(model_cfg, ssp_path, catalog_path, tmp_path, checks):
    fit_cfg = {"seed": 0, "mode": "fast", "sys_frac": 0.0}
    r = checks.roundtrip(tmp_path, run_batch_benchmark(model_cfg, ssp_path, catalog_path, "vi", 2, fit_cfg,
                                                       {"n_steps": 10, "n_samples": 20}, runtime={"threads": 1}),
                         "batch")
    assert r["benchmark"] == "batch" and r["n_galaxies"] == 2 and r["device"] == "cpu"
    assert r["provenance"]["runtime"] == {"threads": 1}
    assert r["batched"]["gal_per_s"] > 0 and len(r["looped"]["run_s_per_call"]) == 2
