"""Wall-clock timing of JAX calls: steady state, first call, compile phases, ratios.

Times are wall-clock seconds; each timed call is wrapped in ``jax.block_until_ready`` so
asynchronous dispatch never hides work. Statistics are the median and inter-quartile
range over ``repeats`` calls after ``warmup`` untimed calls.

Conventions
-----------
* "jit": the function wrapped in ``jax.jit`` (steady state: compiled, warm).
* "op-by-op": the same Python function called *without* ``jax.jit``: every ``jnp``
  operation dispatches (and on first use compiles) separately.
* "compile": ``jax.jit(f).lower(*args)`` (trace + lower) and ``.compile()`` timed
  separately, and the first call of a fresh ``jax.jit(f)`` (trace + compile + run).
  Compile times depend on the persistent compilation cache:
  :func:`sedjax.bench.record.cache_state` records whether it was disabled, cold or warm
  when the measurement started.
* "cold" / "warm" (:func:`cold_warm`): lower + compile + first run of a program, then
  further runs of the same compiled program (same shapes, new arguments).
* ratios are ``slower / faster`` as named: ``numpy_over_jit = t_numpy / t_jit``.

Nothing here asserts on timings; callers record what was measured.
"""

from __future__ import annotations

import math
import time

import jax
import jax.monitoring
import numpy as np


def block(x):
    """``jax.block_until_ready(x)``: wait until every array in ``x`` is computed."""
    return jax.block_until_ready(x)


def _stats(times) -> dict:
    t = np.asarray(times, dtype=float)
    q25, q50, q75 = np.percentile(t, [25, 50, 75])
    return {
        "median_s": float(q50),
        "iqr_s": float(q75 - q25),
        "min_s": float(t.min()),
        "n": int(t.size),
    }


def time_call(fn, *args, repeats: int = 20, warmup: int = 1, **kwargs) -> dict:
    """Median and IQR of the wall time of ``fn(*args, **kwargs)``.

    Each call (warm-up and timed) is followed by ``jax.block_until_ready`` on its result.

    Returns
    -------
    dict with ``median_s``, ``iqr_s``, ``min_s`` and ``n`` (= ``repeats``)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        block(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        block(fn(*args, **kwargs))
        times.append(time.perf_counter() - t0)
    return _stats(times)


def time_first_call(fn, *args, **kwargs) -> float:
    """Wall time of one call of ``fn`` (e.g. a fresh ``jax.jit`` wrapper: trace + compile + run)."""
    t0 = time.perf_counter()
    block(fn(*args, **kwargs))
    return time.perf_counter() - t0


def compile_times(make_fn, *args, return_fn: bool = False):
    """Compile-time measurements of the function ``make_fn()`` returns.

    ``make_fn`` must build a *new* Python function on each call (a fresh closure), so
    that JAX's in-memory tracing caches cannot serve a previous trace.

    Returns
    -------
    dict with ``lower_s`` (trace + lower to StableHLO), ``compile_s`` (XLA compile of
    that lowering) and ``first_call_s`` (first call of a fresh ``jax.jit``: trace +
    compile + run + transfer); with ``return_fn=True`` also that (now compiled)
    ``jax.jit`` wrapper, ready for steady-state timing without a further compilation.
    """
    jf = jax.jit(make_fn())
    t0 = time.perf_counter()
    lowered = jf.lower(*args)
    t1 = time.perf_counter()
    lowered.compile()
    t2 = time.perf_counter()
    fresh = jax.jit(make_fn())
    first = time_first_call(fresh, *args)
    out = {"lower_s": t1 - t0, "compile_s": t2 - t1, "first_call_s": first}
    return (out, fresh) if return_fn else out


def cold_warm(fn, cold_args: tuple, warm_args: list[tuple]) -> tuple[dict, object]:
    """Cold and warm wall times of ``jax.jit(fn)``, and the cold call's output.

    Cold: ``lower`` (trace + lower), ``compile`` (XLA) and the first run of the compiled
    program on ``cold_args``; warm: one run of the same compiled program per tuple of
    ``warm_args`` (same shapes, e.g. fresh PRNG keys), no compilation.

    Returns
    -------
    (dict with ``lower_s``, ``compile_s``, ``first_run_s``, ``cold_s`` (their sum) and
    ``warm`` (:func:`time_call`-style statistics over the warm runs), the cold run's
    output fetched to the host)
    """
    if not warm_args:
        raise ValueError("cold_warm needs at least one tuple of warm arguments")
    t0 = time.perf_counter()
    lowered = jax.jit(fn).lower(*cold_args)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    out = block(compiled(*cold_args))
    t3 = time.perf_counter()
    times = []
    for args in warm_args:
        t = time.perf_counter()
        block(compiled(*args))
        times.append(time.perf_counter() - t)
    timings = {"lower_s": t1 - t0, "compile_s": t2 - t1, "first_run_s": t3 - t2, "cold_s": t3 - t0,
               "warm": _stats(times)}
    return timings, jax.device_get(out)


def ratio(a, b):
    """a / b as a float, or None when either is missing or b is not positive."""
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return None
    return a / b


COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class CompileCounter:
    """Counts XLA compilations from JAX's monitoring events, independently of any caller's bookkeeping.

    :data:`COMPILE_EVENT` fires once per backend compile (eager operations included) and
    once per load from the persistent compilation cache. One listener per counter is
    registered for the life of the process (JAX has no public way to remove one), so make
    one counter per process and read differences: ``n0 = c.n; ...; c.n - n0``.
    """

    def __init__(self):
        self.n = 0
        self.seconds = 0.0
        jax.monitoring.register_event_duration_secs_listener(self._on_event)

    def _on_event(self, name, duration, **_kw):
        if name == COMPILE_EVENT:
            self.n += 1
            self.seconds += float(duration)
