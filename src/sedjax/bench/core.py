"""Benchmark utilities and bodies (pure library: no Snakemake import).

Every ``bench_*`` function takes a model and sizes, runs its measurements in this process
(or, for :func:`bench_cache`, in fresh subprocesses) and returns a JSON-ready dict with a
``provenance`` block. Times are wall-clock seconds; each timed call is wrapped in
``jax.block_until_ready`` so asynchronous dispatch never hides work. Statistics are the
median and inter-quartile range over ``repeats`` calls after ``warmup`` untimed calls.

Conventions
-----------
* "jit": the function wrapped in ``jax.jit`` (steady state: compiled, warm).
* "op-by-op": the same Python function called *without* ``jax.jit``: every ``jnp``
  operation dispatches (and on first use compiles) separately.
* "compile": ``jax.jit(f).lower(*args)`` (trace + lower) and ``.compile()`` timed
  separately, and the first call of a fresh ``jax.jit(f)`` (trace + compile + run).
  Compile times depend on the persistent compilation cache: :func:`cache_state` records
  whether it was disabled, cold or warm when the measurement started.
* ratios are ``slower / faster`` as named: ``numpy_over_jit = t_numpy / t_jit``.

Nothing here asserts on timings; callers record what was measured.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.io.jsonio import to_jsonable, write_json  # noqa: F401 (re-exported until the bench split)
from sedjax.io.provenance import cpu_model, git_commit, package_versions, utc_now

BENCH_PACKAGES = ("sedjax", "jax", "jaxlib", "blackjax", "numpy", "bagpipes", "astro-sedpy")


# --------------------------------------------------------------------------- timing
def _block(x):
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
        _block(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _block(fn(*args, **kwargs))
        times.append(time.perf_counter() - t0)
    return _stats(times)


def time_first_call(fn, *args, **kwargs) -> float:
    """Wall time of one call of ``fn`` (e.g. a fresh ``jax.jit`` wrapper: trace + compile + run)."""
    t0 = time.perf_counter()
    _block(fn(*args, **kwargs))
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


def ratio(a, b):
    """a / b as a float, or None when either is missing or b is not positive."""
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(a) and math.isfinite(b)) or b <= 0:
        return None
    return a / b


# ----------------------------------------------------------------------- provenance
def cache_state() -> dict:
    """State of JAX's persistent compilation cache right now.

    ``state`` is ``"disabled"`` (no cache directory configured), ``"cold"`` (directory
    empty or absent) or ``"warm"`` (it already holds ``n_entries`` files).
    """
    d = jax.config.jax_compilation_cache_dir
    if not d:
        return {"enabled": False, "dir": None, "state": "disabled", "n_entries": 0}
    p = Path(d)
    n = sum(1 for f in p.rglob("*") if f.is_file()) if p.is_dir() else 0
    return {"enabled": True, "dir": str(p), "state": "warm" if n else "cold", "n_entries": n}


def device_info() -> dict:
    """Default JAX backend and its devices."""
    devs = jax.devices()
    d0 = devs[0]
    return {
        "backend": jax.default_backend(),
        "platform": d0.platform,
        "device_kind": getattr(d0, "device_kind", None),
        "device_name": str(d0),
        "n_devices": len(devs),
    }


def provenance(model=None, cache: dict | None = None, extra: dict | None = None) -> dict:
    """Where and how a benchmark ran: device, host, versions, precision, commit, date, cache.

    Parameters
    ----------
    model : SEDModel, optional
        Adds its dtype, bands and sizes.
    cache : dict, optional
        :func:`cache_state` captured *before* the measured compilations (default: now).
    """
    from sedjax.io.runtime import allocated_cpus

    out = {
        "date_utc": utc_now(),
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "n_cpu": os.cpu_count(),
        "allocated_cpus": allocated_cpus(),
        **device_info(),
        "versions": package_versions(BENCH_PACKAGES),
        "jax_enable_x64": bool(jax.config.jax_enable_x64),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        "blas": blas_info(),
        "git_commit": git_commit(cwd=Path(__file__).resolve().parent),
        "compilation_cache": cache if cache is not None else cache_state(),
    }
    if model is not None:
        out["float_precision"] = str(model.dtype)
        out["model"] = {
            "bands": list(model.bands),
            "sfh": model.spec.mean_sfh_type,
            "dust_law": model.dust_law,
            "igm": model.igm,
            "n_met": int(model._flux_nat.shape[0]),
            "n_age": int(model._flux_nat.shape[1]),
            "n_wave_native": int(model._flux_nat.shape[2]),
            "n_wave_integration": int(model.grid.wave_rest_aa.shape[0]),
            "n_subbins": model.n_subbins,
            "fixed_redshift": model.fixed_redshift,
        }
    else:
        out["float_precision"] = "float64" if jax.config.jax_enable_x64 else "float32"
    if extra:
        out.update(extra)
    return out


def _error_record(exc: BaseException) -> dict:
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": traceback.format_exc(limit=20),
    }


# ------------------------------------------------------------------------- helpers
def benchmark_params(model, seed: int = 0) -> dict:
    """A reproducible parameter point: one prior draw (fixed parameters included)."""
    p = model.spec.sample(jax.random.PRNGKey(seed))
    return {k: jnp.asarray(v, model.dtype) for k, v in p.items()}


def _predict_fn(model, mode):
    def f(p):
        return model.predict_photometry(p, mode=mode)

    return f


def _loglik_fn(model, mode):
    """Gaussian log-likelihood of photometry as a function of unconstrained ``u``."""
    spec = model.spec

    def loglik(u, obs, err):
        params, _ = spec.from_unconstrained(u)
        pred = model.predict_photometry(params, mode=mode)
        return -0.5 * jnp.sum(((pred - obs) / err) ** 2)

    return loglik


def _blas_single_thread():
    """A context manager limiting BLAS to one thread (threadpoolctl), or None without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


def blas_info() -> list:
    """BLAS libraries NumPy loaded and their thread counts (threadpoolctl; [] without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer")
    return [{k: d.get(k) for k in keys} for d in threadpool_info() if d.get("user_api") == "blas"]


# ------------------------------------------------------------------------- bench_jit
def bench_jit(model, params=None, repeats: int = 20, numpy_repeats: int | None = None, modes=("fast", "exact")) -> dict:
    """Compile time and steady state of ``predict_photometry`` (jit) against op-by-op JAX and NumPy.

    For each mode: compile times (:func:`compile_times`), steady-state jit time, op-by-op
    (no ``jax.jit``) first and steady time, and the NumPy reference
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
        out["numpy_reference_error"] = _error_record(exc)
    params_np = {k: float(v) for k, v in params.items()}

    for mode in modes:
        r = {}
        r["compile"], jf = compile_times(lambda m=mode: _predict_fn(model, m), params, return_fn=True)
        r["jit"] = time_call(jf, params, repeats=repeats)
        op = _predict_fn(model, mode)
        r["op_by_op_first_call_s"] = time_first_call(op, params)
        r["op_by_op"] = time_call(op, params, repeats=repeats)
        if reference_photometry is not None:
            try:
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
            except Exception as exc:
                r["numpy_error"] = _error_record(exc)
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
    fwds = {m: jax.jit(_predict_fn(model, m)) for m in dict.fromkeys(("fast",) + tuple(modes))}
    obs = fwds["fast"](params)
    err = jnp.abs(obs) * 0.1 + 1e-30
    u0 = spec.to_unconstrained(params)
    out = {"benchmark": "grad", "repeats": repeats, "n_free": spec.n_free, "single": {}, "batched": {}}

    for mode in modes:
        ll = _loglik_fn(model, mode)
        r = {}
        r["compile_grad"], jg = compile_times(
            lambda m=mode: jax.grad(_loglik_fn(model, m)), u0, obs, err, return_fn=True
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
    vfwd = jax.jit(jax.vmap(_predict_fn(model, "fast")))
    obs_b = vfwd(pb)
    err_b = jnp.abs(obs_b) * 0.1 + 1e-30
    b = {"batch": batch}
    b["compile_vmap_grad"], vgrad = compile_times(
        lambda: jax.vmap(jax.grad(_loglik_fn(model, "fast"))), ub, obs_b, err_b, return_fn=True
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
    single = jax.jit(_predict_fn(model, "fast"))
    vf = jax.jit(jax.vmap(_predict_fn(model, "fast")))
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
            _block(singles)

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


# ----------------------------------------------------------------------- bench_cache
_CACHE_CHILD = r"""
import json, sys, time
t_start = time.perf_counter()
args = json.loads(sys.argv[1])
from sedjax.io.runtime import configure_jax
configure_jax(args["device"], threads=args["threads"], cache_root=None)
import jax
jax.config.update("jax_compilation_cache_dir", args["cache_dir"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
import jax.numpy as jnp
from sedjax.model.from_config import model_from_config
t_import = time.perf_counter()
model = model_from_config(args["model"], args["ssp_path"], dtype=args["dtype"])
t_model = time.perf_counter()
p = model.spec.sample(jax.random.PRNGKey(0))
mode = args["mode"]
f = jax.jit(lambda q: model.predict_photometry(q, mode=mode))
y = jax.block_until_ready(f(p))
t_pred = time.perf_counter()
obs = y
err = jnp.abs(y) * 0.1 + 1e-30
def loglik(u):
    q, _ = model.spec.from_unconstrained(u)
    return -0.5 * jnp.sum(((model.predict_photometry(q, mode=mode) - obs) / err) ** 2)
u = model.spec.to_unconstrained(p)
g = jax.block_until_ready(jax.jit(jax.grad(loglik))(u))
t_grad = time.perf_counter()
print("RESULT " + json.dumps({
    "import_s": t_import - t_start,
    "model_build_s": t_model - t_import,
    "first_predict_s": t_pred - t_model,
    "first_grad_s": t_grad - t_pred,
    "first_result_s": t_grad - t_model,
    "in_process_total_s": t_grad - t_start,
    "grad_finite": bool(jnp.all(jnp.isfinite(g))),
}))
"""


def _run_cache_child(args: dict, timeout: float) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CACHE_CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cache benchmark subprocess failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    res["process_wall_s"] = wall
    return res


def bench_cache(model_cfg: dict, ssp_path, device: str = "cpu", mode: str = "fast", threads: int | None = None, dtype: str = "float64", cache_dir=None, timeout: float = 900) -> dict:
    """Persistent compilation cache: time to first result in a cold vs a warm process.

    Runs two fresh Python subprocesses that each build the model (``model_from_config``)
    and compute one jitted ``predict_photometry`` and one jitted ``grad`` of the
    log-likelihood: the first with an empty cache directory (cold), the second with the
    same directory (warm). ``first_result_s`` is model-built -> gradient ready (includes
    the model's own fast-table compilation only in ``model_build_s``).
    """
    from sedjax.io.runtime import allocated_cpus

    threads = threads or allocated_cpus()
    own_tmp = cache_dir is None
    tmp = tempfile.mkdtemp(prefix="sedjax-cache-bench-") if own_tmp else str(cache_dir)
    try:
        if any(Path(tmp).iterdir()):
            raise ValueError(f"cache_dir {tmp} must be empty for a cold start")
        args = {
            "device": device,
            "threads": threads,
            "cache_dir": tmp,
            "model": model_cfg,
            "ssp_path": str(ssp_path),
            "mode": mode,
            "dtype": dtype,
        }
        cold = _run_cache_child(args, timeout)
        n_entries = sum(1 for f in Path(tmp).rglob("*") if f.is_file())
        cache_bytes = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
        warm = _run_cache_child(args, timeout)
    finally:
        if own_tmp:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    keys = ("first_predict_s", "first_grad_s", "first_result_s", "model_build_s", "process_wall_s")
    return {
        "benchmark": "cache",
        "mode": mode,
        "cold": cold,
        "warm": warm,
        "cache_entries_after_cold": n_entries,
        "cache_bytes_after_cold": cache_bytes,
        "ratios": {f"cold_over_warm_{k[:-2]}": ratio(cold[k], warm[k]) for k in keys},
        "provenance": provenance(None, {"enabled": True, "dir": "temporary", "state": "cold then warm (this benchmark)"},
                                 extra={"float_precision": dtype}),
    }


# ------------------------------------------------------------------------ bench_peer
def bagpipes_components(model, params) -> dict:
    """bagpipes ``model_components`` equivalent to our dpl + CF00 parameters.

    dblplaw: tau, alpha, beta, massformed (log10 M☉: our derived ``log_mass_formed``),
    metallicity Z/Z☉ = 10**met_logzsol; dust "CF00": Av = 1.0857 tau_diff,
    eta = 1 + tau_bc / tau_diff, n = −dust_slope; t_bc = 0.01 Gyr.
    """
    if model.spec.mean_sfh_type != "dpl":
        raise ValueError(f"the bagpipes comparison maps the dpl SFH only, model has {model.spec.mean_sfh_type!r}")
    if model.dust_law != "powerlaw":
        raise ValueError(f"the bagpipes comparison maps the power-law (CF00) dust only, model has {model.dust_law!r}")
    p = {k: float(v) for k, v in params.items()}
    if p["dust_tau_diff"] <= 0:
        raise ValueError("bagpipes CF00 needs dust_tau_diff > 0 (eta = 1 + tau_bc/tau_diff)")
    log_mass = float(model.derived(params)["log_mass_formed"])
    return {
        "redshift": p["redshift"],
        "t_bc": 0.01,
        "dblplaw": {
            "tau": p["sfh_dpl_tau_gyr"],
            "alpha": p["sfh_dpl_alpha"],
            "beta": p["sfh_dpl_beta"],
            "massformed": log_mass,
            "metallicity": 10.0 ** p["met_logzsol"],
        },
        "dust": {
            "type": "CF00",
            "Av": 1.0857 * p["dust_tau_diff"],
            "eta": 1.0 + p["dust_tau_bc"] / p["dust_tau_diff"],
            "n": -p["dust_slope"],
        },
    }


def write_bagpipes_filters(model, directory) -> list[str]:
    """Write each band's curve (sedpy, via :func:`sedjax.photometry.filters.load_filters`) as a
    two-column text file (Angstrom, transmission) for bagpipes; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in model.filters:
        path = directory / f"{f.name}.dat"
        np.savetxt(path, np.column_stack([f.wave_aa, f.trans]), fmt="%.6e")
        paths.append(str(path))
    return paths


def _import_bagpipes():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        import bagpipes
    return bagpipes, buf.getvalue()


def bench_peer(model, params=None, repeats: int = 20, tmp_dir=None) -> dict:
    """Our model against bagpipes on the same physics setup.

    Times ``bagpipes.model_galaxy(...)`` construction and ``model_galaxy.update(...)``
    (one model evaluation) against our jitted ``predict_photometry`` (fast, exact) in the
    same process; also records the per-band magnitude difference (ours − bagpipes, a
    sanity number: IGM, spectral sampling and filter-integration conventions differ).
    bagpipes failures are recorded under ``bagpipes_error``; ours are still timed.
    """
    cache = cache_state()
    params = benchmark_params(model, seed=0) if params is None else params
    out = {"benchmark": "peer", "repeats": repeats, "peer": "bagpipes", "ours": {}}

    ours_mag = None
    for mode in ("fast", "exact"):
        jf = jax.jit(_predict_fn(model, mode))
        r = {"first_call_s": time_first_call(jf, params), "jit": time_call(jf, params, repeats=repeats)}
        maggies = np.asarray(jf(params), dtype=float)
        r["maggies"] = maggies
        r["ab_mag"] = -2.5 * np.log10(maggies)
        out["ours"][mode] = r
        if mode == "exact":
            ours_mag = r["ab_mag"]

    own_tmp = tmp_dir is None
    tmp = Path(tempfile.mkdtemp(prefix="sedjax-bagpipes-")) if own_tmp else Path(tmp_dir)
    try:
        comps = bagpipes_components(model, params)
        out["bagpipes_components"] = comps
        bagpipes, import_log = _import_bagpipes()
        out["bagpipes_version"] = getattr(bagpipes, "__version__", None)
        out["bagpipes_import_output"] = import_log[-2000:]
        filt_list = write_bagpipes_filters(model, tmp)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t0 = time.perf_counter()
            mg = bagpipes.model_galaxy(comps, filt_list=filt_list, phot_units="mujy")
            out["bagpipes_init_s"] = time.perf_counter() - t0
            out["bagpipes_update"] = time_call(mg.update, comps, repeats=repeats)
            mg.update(comps)
        mujy = np.asarray(mg.photometry, dtype=float)
        bp_maggies = mujy * 1e-6 / 3631.0
        bp_mag = -2.5 * np.log10(bp_maggies)
        out["bagpipes_maggies"] = bp_maggies
        out["bagpipes_ab_mag"] = bp_mag
        out["mag_diff_ours_exact_minus_bagpipes"] = ours_mag - bp_mag
        out["mag_diff_ours_fast_minus_bagpipes"] = out["ours"]["fast"]["ab_mag"] - bp_mag
        out["max_abs_mag_diff_exact"] = float(np.max(np.abs(ours_mag - bp_mag)))
        # the largest known convention difference: bagpipes' cosmology (FlatLambdaCDM H0=70,
        # Om0=0.3) vs ours (Planck18) changes d_L, i.e. every band by the same offset
        from sedjax.physics import cosmology

        z = comps["redshift"]
        dl_ours = float(cosmology.luminosity_distance_mpc(jnp.asarray(z, model.dtype)))
        dl_bp = float(np.interp(z, bagpipes.utils.z_array, bagpipes.utils.ldist_at_z))
        out["luminosity_distance_mpc"] = {"ours": dl_ours, "bagpipes": dl_bp}
        out["dl_mag_offset"] = 5.0 * math.log10(dl_ours / dl_bp)
        out["mag_diff_exact_minus_bagpipes_dl_corrected"] = ours_mag - bp_mag - out["dl_mag_offset"]
        out["conventions_differ"] = (
            "cosmology (d_L and age of the universe: bagpipes H0=70, Om0=0.3; ours Planck18), "
            "IGM model details, bagpipes' R=100 resampled spectrum vs our native-resolution "
            "integration, filter-integration convention; differences are recorded, not asserted"
        )
        out["bagpipes_n_wavelengths"] = int(np.asarray(mg.wavelengths).size)
        t_bp = out["bagpipes_update"]["median_s"]
        out["ratios"] = {
            "bagpipes_over_fast": ratio(t_bp, out["ours"]["fast"]["jit"]["median_s"]),
            "bagpipes_over_exact": ratio(t_bp, out["ours"]["exact"]["jit"]["median_s"]),
        }
        out["bagpipes_error"] = None
    except Exception as exc:
        out["bagpipes_error"] = _error_record(exc)
        out["ratios"] = {"bagpipes_over_fast": None, "bagpipes_over_exact": None}
    finally:
        if own_tmp:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    out["provenance"] = provenance(model, cache)
    return out


# --------------------------------------------------------------------------- summary
def summarize(results: dict) -> dict:
    """Headline numbers from ``{name: result dict}`` (missing/skipped ones become None)."""

    def get(d, *keys):
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return None
            d = d[k]
        return d

    skipped = {k: v.get("reason") for k, v in results.items() if isinstance(v, dict) and v.get("skipped")}
    jit, grad, vmap, cache, peer = (results.get(k, {}) for k in ("jit", "grad", "vmap", "cache", "peer"))
    head = {
        "fast_vs_bagpipes": get(peer, "ratios", "bagpipes_over_fast"),
        "exact_vs_bagpipes": get(peer, "ratios", "bagpipes_over_exact"),
        "jit_vs_numpy_exact": get(jit, "modes", "exact", "ratios", "numpy_over_jit"),
        "jit_vs_numpy_exact_default_blas_threads": get(jit, "modes", "exact", "ratios", "numpy_default_threads_over_jit"),
        "jit_vs_numpy_fast": get(jit, "modes", "fast", "ratios", "numpy_over_jit"),
        "jit_vs_op_by_op_exact": get(jit, "modes", "exact", "ratios", "op_by_op_over_jit"),
        "jit_vs_op_by_op_fast": get(jit, "modes", "fast", "ratios", "op_by_op_over_jit"),
        "grad_over_forward_fast": get(grad, "single", "fast", "ratios", "grad_over_forward"),
        "grad_over_forward_exact": get(grad, "single", "exact", "ratios", "grad_over_forward"),
        "batched_grad_over_forward_fast": get(grad, "batched", "fast", "ratios", "grad_over_forward"),
        "vmap_per_galaxy_us_at_largest": (
            None if get(vmap, "vmap_per_galaxy_s_at_largest") is None else 1e6 * vmap["vmap_per_galaxy_s_at_largest"]
        ),
        "vmap_largest_batch": get(vmap, "largest_batch"),
        "loop_over_vmap_at_largest_looped": None,
        "largest_looped_batch": None,
        "cache_cold_over_warm_first_result": get(cache, "ratios", "cold_over_warm_first_result"),
        "cache_cold_first_result_s": get(cache, "cold", "first_result_s"),
        "cache_warm_first_result_s": get(cache, "warm", "first_result_s"),
    }
    looped = [r for r in (get(vmap, "rows") or []) if r.get("loop_over_vmap") is not None]
    if looped:
        head["loop_over_vmap_at_largest_looped"] = looped[-1]["loop_over_vmap"]
        head["largest_looped_batch"] = looped[-1]["batch"]
    head["peer_max_abs_mag_diff_exact"] = get(peer, "max_abs_mag_diff_exact")
    errors = {}
    if get(peer, "bagpipes_error"):
        errors["peer"] = peer["bagpipes_error"]["message"]
    if get(jit, "numpy_reference_error"):
        errors["jit_numpy"] = jit["numpy_reference_error"]["message"]
    return {"headline": head, "skipped": skipped, "errors": errors}


_ROWS = (
    ("fast_vs_bagpipes", "bagpipes `update()` / ours fast (jit)", "×"),
    ("exact_vs_bagpipes", "bagpipes `update()` / ours exact (jit)", "×"),
    ("jit_vs_numpy_exact", "NumPy reference (faster BLAS setting) / jit, exact", "×"),
    ("jit_vs_numpy_exact_default_blas_threads", "NumPy reference (default BLAS threads) / jit, exact", "×"),
    ("jit_vs_numpy_fast", "NumPy reference (exact physics) / jit fast", "×"),
    ("jit_vs_op_by_op_exact", "op-by-op JAX / jit, exact", "×"),
    ("jit_vs_op_by_op_fast", "op-by-op JAX / jit, fast", "×"),
    ("grad_over_forward_fast", "jit(grad(loglik)) / jit forward, fast", "×"),
    ("grad_over_forward_exact", "jit(grad(loglik)) / jit forward, exact", "×"),
    ("batched_grad_over_forward_fast", "vmap(grad) / vmap forward per galaxy, fast", "×"),
    ("vmap_per_galaxy_us_at_largest", "per-galaxy time at the largest batch (fast, vmap)", "µs"),
    ("loop_over_vmap_at_largest_looped", "Python loop of jitted calls / vmap, per galaxy", "×loop"),
    ("cache_cold_over_warm_first_result", "time to first result, cold / warm compilation cache", "×"),
)


def summary_markdown(summary: dict, device: str) -> str:
    """A Markdown table of the headline ratios."""
    h = summary["headline"]
    lines = [f"# Benchmarks ({device})", ""]
    prov = summary.get("provenance") or {}
    if prov:
        lines += [
            f"Device: {prov.get('device_kind')} ({prov.get('platform')}); CPU: {prov.get('cpu_model')}, "
            f"{prov.get('allocated_cpus')} of {prov.get('n_cpu')} cores; precision {prov.get('float_precision')}; "
            f"jax {prov.get('versions', {}).get('jax')}; commit {str(prov.get('git_commit'))[:10]}; {prov.get('date_utc')}",
            "",
        ]
    lines += ["| quantity | value |", "|---|---|"]
    for key, label, unit in _ROWS:
        v = h.get(key)
        if v is None:
            s = "n/a"
        elif unit == "µs":
            s = f"{v:.3g} µs"
            if h.get("vmap_largest_batch"):
                s += f" (batch {h['vmap_largest_batch']})"
        elif unit == "×loop":
            s = f"{v:.3g}× (batch {h.get('largest_looped_batch')})"
        else:
            s = f"{v:.3g}×"
        lines.append(f"| {label} | {s} |")
    if h.get("peer_max_abs_mag_diff_exact") is not None:
        lines += ["", f"Largest |ours exact − bagpipes| over the bands: {h['peer_max_abs_mag_diff_exact']:.3f} mag "
                  "(sanity number: cosmology, IGM and sampling conventions differ; see peer.json)."]
    if h.get("cache_cold_first_result_s") is not None:
        lines += ["", f"Cold / warm time to first result: {h['cache_cold_first_result_s']:.2f} s / "
                  f"{h['cache_warm_first_result_s']:.2f} s."]
    if summary.get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in summary["skipped"].items())]
    if summary.get("errors"):
        lines += ["", "Errors: " + "; ".join(f"{k}: {v}" for k, v in summary["errors"].items())]
    lines += ["", "Ratios are slower / faster (median wall times); see the per-benchmark JSON for IQRs and raw times.", ""]
    return "\n".join(lines)
