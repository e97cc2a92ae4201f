"""sedjax.bench.forward on tiny settings: structure of the records and the JSON, never timings."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.bench.forward import bench_grad, bench_jit, bench_vmap, benchmark_params, loglik_fn, predict_fn


def test_benchmark_params_reproducible(default_model, params):
    again = benchmark_params(default_model, seed=0)
    assert set(again) == set(params)
    assert all(float(again[k]) == float(params[k]) for k in params)
    assert all(v.dtype == default_model.dtype for v in again.values())


def test_loglik_fn_is_the_gaussian_loglik_with_all_bands(default_model, params):
    """chi² term plus the constant normalisation −½ Σ ln(2π σ²), computed here independently."""
    obs = predict_fn(default_model, "fast")(params)
    err = jnp.abs(obs) * 0.1 + 1e-30
    u = default_model.spec.to_unconstrained(params)
    shifted = {**params, "sfh_dpl_log_peak_sfr": params["sfh_dpl_log_peak_sfr"] + 0.05}
    pred = np.asarray(predict_fn(default_model, "fast")(shifted))
    o, e = np.asarray(obs), np.asarray(err)
    expected = -0.5 * np.sum((pred - o) ** 2 / e**2 + np.log(2 * math.pi * e**2))
    got = float(loglik_fn(default_model, "fast")(default_model.spec.to_unconstrained(shifted), obs, err))
    assert got == pytest.approx(expected, rel=1e-10)
    at_truth = float(loglik_fn(default_model, "fast")(u, obs, err))
    assert at_truth == pytest.approx(-0.5 * np.sum(np.log(2 * math.pi * e**2)), rel=1e-10)


def test_bench_jit(default_model, params, tmp_path, checks):
    r = checks.roundtrip(tmp_path, bench_jit(default_model, params, repeats=2), "jit")
    assert r["benchmark"] == "jit"
    for mode in ("fast", "exact"):
        m = r["modes"][mode]
        for stat in ("jit", "op_by_op"):
            checks.stats(m[stat], 2)
        assert all(checks.is_time(m["compile"][k]) for k in ("lower_s", "compile_s", "first_call_s"))
        assert checks.is_time(m["op_by_op_first_call_s"])
        assert checks.is_time(m["ratios"]["op_by_op_over_jit"])
        if "numpy_reference_error" not in r:  # sedjax.model.reference present
            checks.stats(m["numpy"], 2)
            checks.stats(m["numpy_default_threads"], 2)
            assert m["numpy"]["median_s"] <= m["numpy_default_threads"]["median_s"]
            assert checks.is_time(m["ratios"]["numpy_over_jit"])
            assert m["numpy_max_rel_diff"] < (1e-6 if mode == "exact" else 0.05)
    assert checks.is_time(r["exact_over_fast_jit"])
    checks.provenance(r["provenance"])
    assert r["provenance"]["model"]["bands"] == default_model.bands


def test_bench_grad(default_model, params, tmp_path, checks):
    r = checks.roundtrip(tmp_path, bench_grad(default_model, params, batch=4, repeats=2, modes=("fast",)), "grad")
    s = r["single"]["fast"]
    for stat in ("forward", "loglik", "grad"):
        checks.stats(s[stat], 2)
    assert s["grad_finite"] is True
    assert checks.is_time(s["ratios"]["grad_over_forward"])
    b = r["batched"]["fast"]
    assert b["batch"] == 4
    checks.stats(b["grad"], 2)
    assert checks.is_time(b["grad_per_galaxy_s"]) and checks.is_time(b["forward_per_galaxy_s"])
    assert checks.is_time(b["ratios"]["grad_over_forward"])
    assert r["n_free"] == default_model.spec.n_free
    checks.provenance(r["provenance"])


def test_bench_vmap(default_model, tmp_path, checks):
    r = checks.roundtrip(tmp_path, bench_vmap(default_model, [1, 4], repeats=2, loop_max=1), "vmap")
    assert [row["batch"] for row in r["rows"]] == [1, 4]
    small, big = r["rows"]
    checks.stats(small["vmap"], 2)
    assert checks.is_time(small["loop_per_galaxy_s"]) and checks.is_time(small["loop_over_vmap"])
    assert big["loop"] is None and big["loop_over_vmap"] is None  # above loop_max: not measured
    assert checks.is_time(big["vmap_per_galaxy_s"]) and checks.is_time(big["vmap_first_call_s"])
    assert r["largest_batch"] == 4 and checks.is_time(r["vmap_per_galaxy_s_at_largest"])
    checks.provenance(r["provenance"])
