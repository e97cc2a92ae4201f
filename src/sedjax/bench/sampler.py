"""Sampler benchmark: cold (trace + compile + run) vs warm (same shapes) calls per backend.

For each backend, the per-galaxy program of :func:`sedjax.fitting.single.fit` (``bind(backend,
target, opts)`` on one galaxy's data) is lowered, compiled and run once (cold), then run
again ``warm_repeats`` times with fresh keys and the same shapes (warm). The cold call is
what a one-off ``fit`` pays; the warm call is what every further galaxy of the same shape
costs without re-compilation (the batch fits amortise the compile the same way).

For NUTS the warm time is also given per iteration: ``warm / (n_warmup + n_samples)``
(all chains advance in parallel under ``vmap``), and per gradient evaluation from the
mean number of leapfrog steps. Times use :func:`sedjax.bench.timing.cold_warm` and the result carries
:func:`sedjax.bench.record.provenance`. Nothing here asserts on timings.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from sedjax.bench.record import cache_state, error_record, provenance
from sedjax.bench.timing import cold_warm
from sedjax.inference import FitResult, bind, iterations, make_opts
from sedjax.inference.posterior import make_data, make_target

DEFAULT_OPTIONS = {"nuts": {"n_chains": 2, "n_warmup": 200, "n_samples": 200}}


def sampler_options(backends, backend_options: dict, overrides: dict | None = None) -> dict:
    """Per backend: its fit options (``backend_options``) updated by this benchmark's ``overrides``."""
    overrides = overrides or {}
    return {b: {**(backend_options.get(b) or {}), **(overrides.get(b) or {})} for b in backends}


def _options_dict(opts) -> dict:
    return {k: getattr(opts, k) for k in opts.__dataclass_fields__}


def bench_backend(name: str, target, data, opts, key, warm_repeats: int = 3, param_names=None) -> dict:
    """Cold and warm timings of one backend on one galaxy (see the module docstring).

    Returns a dict with ``lower_s``, ``compile_s``, ``first_run_s``, ``cold_s`` (their
    sum), ``warm`` (statistics of the warm calls: ``median_s``, ``iqr_s``, ``min_s``,
    ``n``), ``cold_over_warm``, ``iterations`` and ``ms_per_iteration`` (where the
    backend has a fixed iteration count), ``status``/``reason`` of the first run and
    the options used.
    """
    k_cold, k_warm = jax.random.split(key)
    timings, raw = cold_warm(bind(name, target, opts), (k_cold, data), [(k_warm, data)] * int(warm_repeats))
    warm = timings["warm"]
    out = {**timings, "options": _options_dict(opts)}
    out["cold_over_warm"] = out["cold_s"] / warm["median_s"] if warm["median_s"] > 0 else None
    it = iterations(name, opts)  # the registry's count of sequential iterations per call
    if it is not None:
        out["iterations"] = it
        out["ms_per_iteration"] = 1e3 * warm["median_s"] / it if it > 0 else None
    if name == "nuts" and "n_leapfrog_mean" in raw:
        nl = float(np.asarray(raw["n_leapfrog_mean"]))
        out["n_leapfrog_mean"] = nl
        # sampling-phase leapfrog count applied to every iteration: an approximate cost per gradient
        if nl > 0 and out.get("iterations"):
            out["ms_per_gradient_approx"] = out["ms_per_iteration"] / nl
    try:
        names = param_names or [f"u{i}" for i in range(np.asarray(raw["samples"]).shape[-1])]
        res = FitResult.from_raw(name, raw, names)
        out["status"], out["reason"] = res.status, res.reason
        out["n_draws"] = int(np.asarray(raw["samples"]).shape[0])
    except Exception as exc:  # a status check must not lose the timings
        out["status"], out["reason"] = "unknown", f"{type(exc).__name__}: {exc}"
    return out


def bench_sampler(
    model,
    obs: dict,
    backends=("nuts", "map", "laplace", "pathfinder", "vi", "ns"),
    options: dict | None = None,
    seed: int = 0,
    warm_repeats: int = 3,
    mode: str = "fast",
    sys_frac: float = 0.0,
    galaxy_id=None,
    log=None,
) -> dict:
    """Cold vs warm time-to-posterior of every backend on one galaxy.

    Parameters
    ----------
    model : SEDModel
    obs : ``flux``, ``flux_err`` (n_band,) maggies, optional ``mask`` and ``redshift``
    backends : names (``sedjax.inference.BACKENDS``)
    options : {backend: Opts overrides}; NUTS defaults to :data:`DEFAULT_OPTIONS`
    seed : PRNG seed (the same key for every backend)
    warm_repeats : warm calls timed per backend (median and IQR reported)
    log : optional callable ``log(message)`` told after each backend (progress)

    Returns
    -------
    JSON-ready dict: ``backends`` {name: :func:`bench_backend` dict, or ``{"error": ...}``},
    ``nuts`` (headline numbers), ``provenance``.
    """
    cache = cache_state()
    options = {**DEFAULT_OPTIONS, **(options or {})}
    z = obs.get("redshift")
    data = make_data(model, obs["flux"], obs["flux_err"], obs.get("mask"), z, model.tables_for(z))
    target = make_target(model, mode=mode, sys_frac=sys_frac)
    key = jax.random.PRNGKey(seed)
    out = {
        "benchmark": "sampler",
        "mode": mode,
        "warm_repeats": warm_repeats,
        "galaxy_id": galaxy_id,
        "n_free": model.spec.n_free,
        "backends": {},
    }
    t0 = time.perf_counter()
    for name in backends:
        try:
            opts = make_opts(name, **dict(options.get(name) or {}))
            out["backends"][name] = bench_backend(name, target, data, opts, key, warm_repeats, model.spec.free_params)
        except Exception as exc:  # record and go on with the other backends
            out["backends"][name] = {"error": error_record(exc)}
        if log is not None:
            r = out["backends"][name]
            log(f"{name}: error {r['error']['type']}: {r['error']['message']}" if r.get("error") else
                f"{name}: cold {r['cold_s']:.2f} s (compile {r['compile_s']:.2f} s), "
                f"warm {r['warm']['median_s']:.3f} s, status {r.get('status')}")
    out["total_s"] = time.perf_counter() - t0
    n = out["backends"].get("nuts") or {}
    if n and not n.get("error"):
        out["nuts"] = {
            "cold_s": n["cold_s"],
            "compile_s": n["compile_s"],
            "warm_s": n["warm"]["median_s"],
            "cold_over_warm": n["cold_over_warm"],
            "ms_per_iteration": n.get("ms_per_iteration"),
            "n_chains": n["options"]["n_chains"],
            "n_warmup": n["options"]["n_warmup"],
            "n_samples": n["options"]["n_samples"],
        }
    out["provenance"] = provenance(model, cache)
    return out
