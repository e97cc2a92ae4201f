"""sedjax.bench.timing: statistics of timed calls, compile phases, ratios (never timings)."""

import jax.numpy as jnp
import pytest

from sedjax.bench.timing import cold_warm, compile_times, ratio, time_call, time_first_call


def test_time_call_and_ratio(checks):
    calls = []
    s = time_call(lambda x: calls.append(x) or jnp.ones(3) * x, 2.0, repeats=3, warmup=2)
    checks.stats(s, 3)
    assert len(calls) == 5
    assert ratio(4.0, 2.0) == 2.0
    assert ratio(None, 1.0) is None and ratio(1.0, 0.0) is None
    with pytest.raises(ValueError):
        time_call(lambda: 0, repeats=0)


def test_compile_times_positive(checks):
    c = compile_times(lambda: (lambda x: jnp.sin(x) * 2), jnp.ones(4))
    assert all(checks.is_time(c[k]) for k in ("lower_s", "compile_s", "first_call_s"))
    c, fn = compile_times(lambda: (lambda x: jnp.cos(x)), jnp.ones(2), return_fn=True)
    assert checks.is_time(time_first_call(fn, jnp.ones(2)))
    assert ratio(float("nan"), 1.0) is None and ratio(1.0, -1.0) is None


def test_cold_warm_compiles_once_and_runs_each_warm_argument(checks):
    traced = []

    def f(x, k):
        traced.append(1)  # once per trace
        return jnp.sin(x) * k

    t, out = cold_warm(f, (jnp.ones(3), 2.0), [(jnp.ones(3), 1.0), (jnp.zeros(3), 3.0), (jnp.ones(3), 4.0)])
    assert len(traced) == 1  # warm runs reuse the compiled program
    assert out.tolist() == pytest.approx((jnp.sin(1.0) * 2.0 * jnp.ones(3)).tolist())  # the cold run's output
    assert all(checks.is_time(t[k]) for k in ("lower_s", "compile_s", "first_run_s"))
    assert t["cold_s"] == pytest.approx(t["lower_s"] + t["compile_s"] + t["first_run_s"])
    checks.stats(t["warm"], 3)
    with pytest.raises(ValueError, match="warm"):
        cold_warm(f, (jnp.ones(3), 2.0), [])
