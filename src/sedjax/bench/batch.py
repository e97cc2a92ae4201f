"""Batched (vmapped) catalogue fit against a Python loop of per-galaxy ``fit`` calls.

The same galaxies, keys and backend options, in one process:

* batched: :func:`sedjax.fitting.batch.fit_batch` with ``chunk_size = n`` (one compiled program):
  compile time, first run and a second (warm) run of the compiled program;
* looped: :func:`sedjax.fitting.single.fit` per galaxy with the key ``fit_single`` uses; every call
  traces and compiles its own program (from the persistent compilation cache after the
  first call when the cache is on).

``ratio_run = batched gal/s / looped gal/s`` with compile excluded on both sides (looped:
sum of the per-call ``run_s``), ``ratio_wall`` with everything included. The largest
difference between batched and looped draws, in units of the prior width of each free
parameter, is recorded as a consistency check. Nothing here asserts on timings.
"""

from __future__ import annotations

import time

import numpy as np

from sedjax.fitting.batch import fit_batch
from sedjax.fitting.inputs import catalog_arrays, galaxy_keys, needs_tables
from sedjax.fitting.program import BatchProgram
from sedjax.fitting.single import fit


def max_draw_difference(model, looped, batched) -> float | None:
    """Largest |looped − batched| draw over galaxies and free parameters, in prior widths."""
    dev = []
    for i, r in enumerate(looped):
        for k, v in r.samples.items():
            prior = model.spec.priors[k]
            width = float(getattr(prior, "high", np.nan) - getattr(prior, "low", np.nan))
            if not (np.isfinite(width) and width > 0) or not np.any(np.isfinite(v)):
                continue
            dev.append(np.nanmax(np.abs(np.asarray(v) - batched.samples[k][i])) / width)
    return float(np.nanmax(dev)) if dev else None


def bench_batch(model, arrays: dict, backend: str, seed: int = 0, mode: str = "fast", sys_frac: float = 0.0,
                options: dict | None = None, log=None) -> dict:
    """Time ``fit_batch`` (one chunk of all galaxies) against looping ``fit`` over them.

    ``arrays``: ``ids, flux, flux_err, mask, redshift`` of n galaxies (see
    :func:`sedjax.fitting.inputs.catalog_rows`). Returns the record written by rule ``bench_batch``.
    """
    n = len(arrays["ids"])
    common = dict(mode=mode, sys_frac=sys_frac, options=dict(options or {}))
    prog = BatchProgram(model, backend, n, mode, sys_frac, common["options"],
                        needs_tables(model, catalog_arrays(arrays, model)["redshift"]))
    t0 = time.perf_counter()
    first = fit_batch(model, arrays, backend, seed=seed, chunk_size=n, log=log, program=prog, **common)
    batch_wall_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = fit_batch(model, arrays, backend, seed=seed, chunk_size=n, log=log, program=prog, **common)
    batch_wall_warm = time.perf_counter() - t0
    b_first, b_warm = first.throughput(), warm.throughput()

    keys = galaxy_keys(seed, arrays["ids"])  # the keys fit_single and fit_batch use
    looped = []
    t0 = time.perf_counter()
    for i in range(n):
        obs = {k: arrays[k][i] for k in ("flux", "flux_err", "mask", "redshift")}
        looped.append(fit(model, obs, backend, keys[i], **common))
    loop_wall = time.perf_counter() - t0
    loop_compile = [r.timings["compile_s"] for r in looped]
    loop_run = [r.timings["run_s"] for r in looped]
    loop_gps = n / sum(loop_run)
    return {
        "benchmark": "batch",
        "backend": backend,
        "n_galaxies": n,
        "options": first.meta["options"],
        "n_compiles_batched": prog.n_compiles,
        "batched": {
            "compile_s": b_first["compile_s"],
            "run_s_first": b_first["run_s"],
            "run_s_warm": b_warm["run_s"],
            "convert_s_warm": b_warm["convert_s"],
            "wall_s_first": batch_wall_first,
            "wall_s_warm": batch_wall_warm,
            "gal_per_s": n / b_warm["run_s"],
            "gal_per_s_wall_with_compile": n / batch_wall_first,
            "n_failed": first.n_failed,
        },
        "looped": {
            "compile_s_per_call": loop_compile,
            "compile_s_first": loop_compile[0],
            "compile_s_median_later": float(np.median(loop_compile[1:])) if n > 1 else None,
            "run_s_per_call": loop_run,
            "run_s": float(sum(loop_run)),
            "wall_s": loop_wall,
            "gal_per_s": loop_gps,
            "gal_per_s_wall_with_compile": n / loop_wall,
            "n_failed": sum(r.status != "ok" for r in looped),
        },
        "ratio_run": (n / b_warm["run_s"]) / loop_gps,
        "ratio_wall": loop_wall / batch_wall_first,
        "max_sample_diff_over_prior_width": max_draw_difference(model, looped, first),
        "notes": (
            "ratio_run: batched over looped galaxies/s, compile excluded (batched: warm run of the compiled "
            "program; looped: sum of fit()'s run_s). ratio_wall: looped wall / batched wall with compile. Looped "
            "compiles after the first come from the persistent compilation cache when it is on. Batched and "
            "looped draws differ only by floating-point round-off amplified by the samplers."
        ),
    }
