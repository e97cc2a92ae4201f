"""Benchmarks of the forward model: jit vs op-by-op vs NumPy, gradient cost, vmap scaling.

Every ``bench_*`` function takes a model and sizes, runs its measurements in this process
and returns a JSON-ready dict with a ``provenance`` block
(:func:`sedjax.bench.record.provenance`). Timing conventions ("jit", "op-by-op",
"compile", ratios): :mod:`sedjax.bench.timing`. Nothing here asserts on timings.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.bench.record import cache_state, error_record, provenance
from sedjax.bench.timing import block, compile_times, ratio, time_call, time_first_call
from sedjax.inference.posterior import gaussian_loglik


# ------------------------------------------------------------------------- helpers
def benchmark_params(model, seed: int = 0) -> dict:
    """A reproducible parameter point: one prior draw (fixed parameters included)."""
    p = model.spec.sample(jax.random.PRNGKey(seed))
    return {k: jnp.asarray(v, model.dtype) for k, v in p.items()}


def predict_fn(model, mode):
    """A new closure ``f(params) -> model.predict_photometry(params, mode=mode)``."""

    def f(p):
        return model.predict_photometry(p, mode=mode)

    return f


def loglik_fn(model, mode):
    """Gaussian log-likelihood of photometry as a function of unconstrained ``u``.

    ``loglik(u, obs, err)``: :func:`sedjax.inference.posterior.gaussian_loglik` of the
    predicted photometry with every band used (mask 1) and no systematic error term.
    """
    spec = model.spec

    def loglik(u, obs, err):
        params, _ = spec.from_unconstrained(u)
        pred = model.predict_photometry(params, mode=mode)
        return gaussian_loglik(pred, obs, err, 1.0, 0.0)

    return loglik


def _blas_single_thread():
    """A context manager limiting BLAS to one thread (threadpoolctl), or None without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


# ------------------------------------------------------------------------- bench_jit
def _time_numpy(r: dict, reference_photometry, model, params_np, jf, params, numpy_repeats: int) -> None:
    """Add to ``r`` the NumPy reference's timings (default and single-thread BLAS) and its
    largest relative difference to ``jf`` (entries already added stay when a later step raises)."""
    # BLAS with its default threads, and with one thread: on a shared or
    # oversubscribed host the threaded BLAS can be many times slower, so the
    # faster of the two ("numpy") is the baseline of the ratio
    r["numpy_default_threads"] = time_call(reference_photometry, model, params_np, repeats=numpy_repeats)
    r["numpy"] = r["numpy_default_threads"]
    r["numpy_variant"] = "default BLAS threads"
    limits = _blas_single_thread()
    if limits is not None:
        with limits:
            r["numpy_1_blas_thread"] = time_call(reference_photometry, model, params_np, repeats=numpy_repeats)
        if r["numpy_1_blas_thread"]["median_s"] < r["numpy"]["median_s"]:
            r["numpy"] = r["numpy_1_blas_thread"]
            r["numpy_variant"] = "1 BLAS thread"
    ref = np.asarray(reference_photometry(model, params_np))
    ours = np.asarray(jf(params))
    r["numpy_max_rel_diff"] = float(np.max(np.abs(ours / ref - 1)))


def bench_jit(model, params=None, repeats: int = 20, numpy_repeats: int | None = None, modes=("fast", "exact")) -> dict:
    """Compile time and steady state of ``predict_photometry`` (jit) against op-by-op JAX and NumPy.

    For each mode: compile times (:func:`sedjax.bench.timing.compile_times`), steady-state
    jit time, op-by-op (no ``jax.jit``) first and steady time, and the NumPy reference
    (``sedjax.model.reference.reference_photometry``) when it is importable.
    """
    cache = cache_state()
    params = benchmark_params(model) if params is None else params
    numpy_repeats = repeats if numpy_repeats is None else numpy_repeats
    out = {"benchmark": "jit", "repeats": repeats, "modes": {}}

    try:
        from sedjax.model.reference import reference_photometry
    except Exception as exc:  # the NumPy reference is optional here
        reference_photometry = None
        out["numpy_reference_error"] = error_record(exc)
    params_np = {k: float(v) for k, v in params.items()}

    for mode in modes:
        r = {}
        r["compile"], jf = compile_times(lambda m=mode: predict_fn(model, m), params, return_fn=True)
        r["jit"] = time_call(jf, params, repeats=repeats)
        op = predict_fn(model, mode)
        r["op_by_op_first_call_s"] = time_first_call(op, params)
        r["op_by_op"] = time_call(op, params, repeats=repeats)
        if reference_photometry is not None:
            try:
                _time_numpy(r, reference_photometry, model, params_np, jf, params, numpy_repeats)
            except Exception as exc:
                r["numpy_error"] = error_record(exc)
        r["ratios"] = {
            "numpy_over_jit": ratio(r.get("numpy", {}).get("median_s"), r["jit"]["median_s"]),
            "numpy_default_threads_over_jit": ratio(
                r.get("numpy_default_threads", {}).get("median_s"), r["jit"]["median_s"]
            ),
            "op_by_op_over_jit": ratio(r["op_by_op"]["median_s"], r["jit"]["median_s"]),
            "first_call_over_steady": ratio(r["compile"]["first_call_s"], r["jit"]["median_s"]),
        }
        out["modes"][mode] = r
    if "fast" in out["modes"] and "exact" in out["modes"]:
        out["exact_over_fast_jit"] = ratio(
            out["modes"]["exact"]["jit"]["median_s"], out["modes"]["fast"]["jit"]["median_s"]
        )
    out["provenance"] = provenance(model, cache)
    return out


# ------------------------------------------------------------------------ bench_grad
def bench_grad(model, params=None, batch: int = 1000, repeats: int = 20, modes=("fast", "exact")) -> dict:
    """Cost of gradients relative to the forward model.

    Single galaxy (each mode): ``jit(grad(loglik))`` vs ``jit(loglik)`` and vs
    ``jit(predict_photometry)``. Batched (fast mode, ``batch`` galaxies):
    ``jit(vmap(grad(loglik)))`` vs ``jit(vmap(predict_photometry))``, per galaxy.
    ``loglik(u)`` is the Gaussian photometric log-likelihood of the free parameters in the
    unconstrained space the samplers use (``Parameters.from_unconstrained``).
    """
    cache = cache_state()
    params = benchmark_params(model) if params is None else params
    spec = model.spec
    fwds = {m: jax.jit(predict_fn(model, m)) for m in dict.fromkeys(("fast",) + tuple(modes))}
    obs = fwds["fast"](params)
    err = jnp.abs(obs) * 0.1 + 1e-30
    u0 = spec.to_unconstrained(params)
    out = {"benchmark": "grad", "repeats": repeats, "n_free": spec.n_free, "single": {}, "batched": {}}

    for mode in modes:
        ll = loglik_fn(model, mode)
        r = {}
        r["compile_grad"], jg = compile_times(
            lambda m=mode: jax.grad(loglik_fn(model, m)), u0, obs, err, return_fn=True
        )
        jll = jax.jit(ll)
        r["forward"] = time_call(fwds[mode], params, repeats=repeats)
        r["loglik"] = time_call(jll, u0, obs, err, repeats=repeats)
        r["grad"] = time_call(jg, u0, obs, err, repeats=repeats)
        g = np.asarray(jg(u0, obs, err))
        r["grad_finite"] = bool(np.all(np.isfinite(g)))
        r["ratios"] = {
            "grad_over_forward": ratio(r["grad"]["median_s"], r["forward"]["median_s"]),
            "grad_over_loglik": ratio(r["grad"]["median_s"], r["loglik"]["median_s"]),
        }
        out["single"][mode] = r

    # batched, fast mode
    pb = spec.sample_batch(jax.random.PRNGKey(1), batch)
    pb = {k: jnp.asarray(v, model.dtype) for k, v in pb.items()}
    ub = jax.vmap(spec.to_unconstrained)(pb)
    vfwd = jax.jit(jax.vmap(predict_fn(model, "fast")))
    obs_b = vfwd(pb)
    err_b = jnp.abs(obs_b) * 0.1 + 1e-30
    b = {"batch": batch}
    b["compile_vmap_grad"], vgrad = compile_times(
        lambda: jax.vmap(jax.grad(loglik_fn(model, "fast"))), ub, obs_b, err_b, return_fn=True
    )
    b["forward"] = time_call(vfwd, pb, repeats=repeats)
    b["grad"] = time_call(vgrad, ub, obs_b, err_b, repeats=repeats)
    b["forward_per_galaxy_s"] = b["forward"]["median_s"] / batch
    b["grad_per_galaxy_s"] = b["grad"]["median_s"] / batch
    b["ratios"] = {
        "grad_over_forward": ratio(b["grad_per_galaxy_s"], b["forward_per_galaxy_s"]),
        "single_grad_over_batched_grad_per_galaxy": ratio(
            out["single"].get("fast", {}).get("grad", {}).get("median_s"), b["grad_per_galaxy_s"]
        ),
    }
    out["batched"]["fast"] = b
    out["provenance"] = provenance(model, cache)
    return out


# ------------------------------------------------------------------------ bench_vmap
def bench_vmap(model, batch_sizes=(1, 10, 100, 1000), repeats: int = 20, loop_max: int = 1000, loop_repeats: int | None = None) -> dict:
    """Per-galaxy time of ``jit(vmap(predict_photometry fast))`` against a Python loop.

    The loop calls the jitted single-galaxy function once per galaxy (parameters already
    on the device) and is measured only for batch sizes ``<= loop_max``; nothing is
    extrapolated.
    """
    cache = cache_state()
    spec = model.spec
    loop_repeats = max(1, min(repeats, 5)) if loop_repeats is None else loop_repeats
    single = jax.jit(predict_fn(model, "fast"))
    vf = jax.jit(jax.vmap(predict_fn(model, "fast")))
    rows = []
    for n in sorted({int(n) for n in batch_sizes}):
        pb = spec.sample_batch(jax.random.PRNGKey(n), n)
        pb = {k: jnp.asarray(v, model.dtype) for k, v in pb.items()}
        row = {"batch": n}
        row["vmap_first_call_s"] = time_first_call(vf, pb)  # compile for this shape
        row["vmap"] = time_call(vf, pb, repeats=repeats)
        row["vmap_per_galaxy_s"] = row["vmap"]["median_s"] / n
        if n <= loop_max:
            host = {k: np.asarray(v) for k, v in pb.items()}
            singles = [{k: jnp.asarray(host[k][i]) for k in host} for i in range(n)]
            block(singles)

            def loop(ps=singles):
                return [single(p) for p in ps]

            row["loop"] = time_call(loop, repeats=loop_repeats)
            row["loop_per_galaxy_s"] = row["loop"]["median_s"] / n
            row["loop_over_vmap"] = ratio(row["loop_per_galaxy_s"], row["vmap_per_galaxy_s"])
        else:
            row["loop"] = None
            row["loop_per_galaxy_s"] = None
            row["loop_over_vmap"] = None
        rows.append(row)
    out = {
        "benchmark": "vmap",
        "repeats": repeats,
        "loop_repeats": loop_repeats,
        "loop_max": loop_max,
        "rows": rows,
        "largest_batch": rows[-1]["batch"],
        "vmap_per_galaxy_s_at_largest": rows[-1]["vmap_per_galaxy_s"],
        "provenance": provenance(model, cache),
    }
    return out
