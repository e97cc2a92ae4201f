"""Benchmark bodies on tiny settings: structure of the results and the JSON, never timings."""

import json
import math
import os

import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from sedjax.bench import core as bench

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "config", "config.yaml")
PROVENANCE_KEYS = (
    "date_utc", "hostname", "cpu_model", "n_cpu", "platform", "device_kind", "device_name",
    "versions", "float_precision", "git_commit", "compilation_cache", "jax_enable_x64",
)


def _is_time(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def _check_stats(s, n):
    assert set(s) >= {"median_s", "iqr_s", "n"}
    assert _is_time(s["median_s"])
    assert s["iqr_s"] >= 0 and math.isfinite(s["iqr_s"])
    assert s["n"] == n


def _check_provenance(p):
    for k in PROVENANCE_KEYS:
        assert k in p, k
    assert p["n_cpu"] >= 1
    assert p["float_precision"] in ("float32", "float64")
    for pkg in ("jax", "jaxlib", "blackjax"):
        assert p["versions"][pkg]
    assert p["compilation_cache"]["state"] in ("disabled", "cold", "warm") or "cold" in p["compilation_cache"]["state"]


def _roundtrip(tmp_path, result, name):
    path = tmp_path / "out" / f"{name}.json"
    bench.write_json(path, result)
    assert not [f for f in path.parent.iterdir() if f.name.endswith(".tmp")]
    with open(path) as fh:
        return json.load(fh, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


@pytest.fixture(scope="module")
def params(default_model):
    return bench.benchmark_params(default_model, seed=0)


def test_time_call_and_ratio():
    calls = []
    s = bench.time_call(lambda x: calls.append(x) or jnp.ones(3) * x, 2.0, repeats=3, warmup=2)
    _check_stats(s, 3)
    assert len(calls) == 5
    assert bench.ratio(4.0, 2.0) == 2.0
    assert bench.ratio(None, 1.0) is None and bench.ratio(1.0, 0.0) is None
    with pytest.raises(ValueError):
        bench.time_call(lambda: 0, repeats=0)


def test_compile_times_positive():
    c = bench.compile_times(lambda: (lambda x: jnp.sin(x) * 2), jnp.ones(4))
    assert all(_is_time(c[k]) for k in ("lower_s", "compile_s", "first_call_s"))


def test_write_json_is_atomic_and_strict(tmp_path):
    obj = {"a": np.float64(1.5), "b": jnp.arange(3), "c": float("nan"), "d": np.inf, "e": (1, np.int32(2))}
    out = _roundtrip(tmp_path, obj, "x")
    assert out == {"a": 1.5, "b": [0, 1, 2], "c": None, "d": None, "e": [1, 2]}
    bench.write_json(tmp_path / "out" / "x.json", {"a": 2})  # overwrite in place
    assert json.loads((tmp_path / "out" / "x.json").read_text()) == {"a": 2}


def test_bench_jit(default_model, params, tmp_path):
    r = _roundtrip(tmp_path, bench.bench_jit(default_model, params, repeats=2), "jit")
    assert r["benchmark"] == "jit"
    for mode in ("fast", "exact"):
        m = r["modes"][mode]
        for stat in ("jit", "op_by_op"):
            _check_stats(m[stat], 2)
        assert all(_is_time(m["compile"][k]) for k in ("lower_s", "compile_s", "first_call_s"))
        assert _is_time(m["op_by_op_first_call_s"])
        assert _is_time(m["ratios"]["op_by_op_over_jit"])
        if "numpy_reference_error" not in r:  # sedjax.model.reference present
            _check_stats(m["numpy"], 2)
            _check_stats(m["numpy_default_threads"], 2)
            assert m["numpy"]["median_s"] <= m["numpy_default_threads"]["median_s"]
            assert _is_time(m["ratios"]["numpy_over_jit"])
            assert m["numpy_max_rel_diff"] < (1e-6 if mode == "exact" else 0.05)
    assert _is_time(r["exact_over_fast_jit"])
    _check_provenance(r["provenance"])
    assert r["provenance"]["model"]["bands"] == default_model.bands


def test_bench_grad(default_model, params, tmp_path):
    r = _roundtrip(tmp_path, bench.bench_grad(default_model, params, batch=4, repeats=2, modes=("fast",)), "grad")
    s = r["single"]["fast"]
    for stat in ("forward", "loglik", "grad"):
        _check_stats(s[stat], 2)
    assert s["grad_finite"] is True
    assert _is_time(s["ratios"]["grad_over_forward"])
    b = r["batched"]["fast"]
    assert b["batch"] == 4
    _check_stats(b["grad"], 2)
    assert _is_time(b["grad_per_galaxy_s"]) and _is_time(b["forward_per_galaxy_s"])
    assert _is_time(b["ratios"]["grad_over_forward"])
    assert r["n_free"] == default_model.spec.n_free
    _check_provenance(r["provenance"])


def test_bench_vmap(default_model, tmp_path):
    r = _roundtrip(tmp_path, bench.bench_vmap(default_model, [1, 4], repeats=2, loop_max=1), "vmap")
    assert [row["batch"] for row in r["rows"]] == [1, 4]
    small, big = r["rows"]
    _check_stats(small["vmap"], 2)
    assert _is_time(small["loop_per_galaxy_s"]) and _is_time(small["loop_over_vmap"])
    assert big["loop"] is None and big["loop_over_vmap"] is None  # above loop_max: not measured
    assert _is_time(big["vmap_per_galaxy_s"]) and _is_time(big["vmap_first_call_s"])
    assert r["largest_batch"] == 4 and _is_time(r["vmap_per_galaxy_s_at_largest"])
    _check_provenance(r["provenance"])


@pytest.mark.slow
def test_bench_cache(ssp_path, tmp_path):
    with open(CONFIG) as fh:
        model_cfg = yaml.safe_load(fh)["model"]
    r = _roundtrip(tmp_path, bench.bench_cache(model_cfg, ssp_path, threads=1), "cache")
    for run in ("cold", "warm"):
        for k in ("first_predict_s", "first_grad_s", "first_result_s", "model_build_s", "process_wall_s"):
            assert _is_time(r[run][k]), (run, k)
        assert r[run]["grad_finite"] is True
    assert r["cache_entries_after_cold"] > 0
    assert _is_time(r["ratios"]["cold_over_warm_first_result"])
    _check_provenance(r["provenance"])


def test_bagpipes_mapping(default_model, params, tmp_path):
    c = bench.bagpipes_components(default_model, params)
    p = {k: float(v) for k, v in params.items()}
    assert c["redshift"] == pytest.approx(0.1)
    assert c["dust"]["type"] == "CF00"
    assert c["dust"]["Av"] == pytest.approx(1.0857 * p["dust_tau_diff"])
    assert c["dust"]["eta"] == pytest.approx(1 + p["dust_tau_bc"] / p["dust_tau_diff"])
    assert c["dust"]["n"] == pytest.approx(0.7)
    assert c["dblplaw"]["metallicity"] == pytest.approx(10 ** p["met_logzsol"])
    assert c["dblplaw"]["massformed"] == pytest.approx(float(default_model.derived(params)["log_mass_formed"]))
    paths = bench.write_bagpipes_filters(default_model, tmp_path)
    assert len(paths) == len(default_model.bands)
    curve = np.loadtxt(paths[0])
    assert curve.shape[1] == 2 and np.all(np.diff(curve[:, 0]) > 0)


@pytest.mark.slow
def test_bench_peer(default_model, params, tmp_path):
    r = _roundtrip(tmp_path, bench.bench_peer(default_model, params, repeats=2), "peer")
    for mode in ("fast", "exact"):
        _check_stats(r["ours"][mode]["jit"], 2)
        assert len(r["ours"][mode]["ab_mag"]) == len(default_model.bands)
    if r["bagpipes_error"] is None:
        _check_stats(r["bagpipes_update"], 2)
        assert _is_time(r["ratios"]["bagpipes_over_fast"])
        assert len(r["mag_diff_ours_exact_minus_bagpipes"]) == len(default_model.bands)
        assert all(math.isfinite(d) for d in r["mag_diff_ours_exact_minus_bagpipes"])
        assert all(math.isfinite(d) for d in r["mag_diff_exact_minus_bagpipes_dl_corrected"])
        assert r["luminosity_distance_mpc"]["ours"] > 0 and r["luminosity_distance_mpc"]["bagpipes"] > 0
    else:  # recorded, not raised
        assert r["bagpipes_error"]["message"] is not None
        assert r["ratios"]["bagpipes_over_fast"] is None
    _check_provenance(r["provenance"])


def test_summary_table():
    results = {
        "jit": {"modes": {"exact": {"ratios": {"numpy_over_jit": 3.0, "op_by_op_over_jit": 2.0}}}},
        "vmap": {"vmap_per_galaxy_s_at_largest": 2e-6, "largest_batch": 10},
        "peer": {"ratios": {"bagpipes_over_fast": 50.0}, "bagpipes_error": None},
        "cache": {"skipped": True, "reason": "no GPU visible to JAX on x"},
    }
    s = bench.summarize(results)
    assert s["headline"]["jit_vs_numpy_exact"] == 3.0
    assert s["headline"]["vmap_per_galaxy_us_at_largest"] == pytest.approx(2.0)
    assert s["headline"]["grad_over_forward_fast"] is None
    assert s["skipped"] == {"cache": "no GPU visible to JAX on x"}
    md = bench.summary_markdown(s, "cpu")
    assert "| bagpipes `update()` / ours fast (jit) | 50× |" in md
    assert "n/a" in md and "Skipped" in md
    json.dumps(s, allow_nan=False)
