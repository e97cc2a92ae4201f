"""HMC kernels of the ``auto`` backend's second stage: whitened NUTS against ChEES-HMC.

The galaxies: with ``population: is_rejected`` (the default) those of the first ``pool_size``
mock galaxies that ``auto``'s importance-sampling stage does not accept (the galaxies that
take the HMC path in a catalogue fit: the curved, hard posteriors), at most ``n_galaxies``
of them (:func:`is_rejected_rows`); with ``population: first`` the first ``n_galaxies``. On them
``auto`` runs with importance
sampling switched off as a gate (``k_max = -1``: IS accepts no galaxy, so every galaxy
takes the HMC path from IS's mode and covariance), once per entry of ``kernels`` (name ->
``auto`` options over the batch's, e.g. ``{hmc_kernel: chees, hmc_draws_per_chain: 1000}``), each a
batch fit of one chunk (:func:`sedjax.fitting.batch.fit_batch`; the galaxies' HMC runs go
one after another, ``hmc_batch`` = 1, as on a CPU). Per entry:

* ``run_s`` (the compiled calls, summed), ``compile_s``, ``s_per_galaxy``;
* ``n_converged`` (status ok: split R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``min_ess`` on the
  sampled coordinates and on the physical quantities) and ``converged_per_s``, the number
  the issue asks to compare ("converged galaxies per second");
* the work: leapfrog steps per draw (sampling and warm-up) and gradient evaluations per
  galaxy (``n_chains`` × (warm-up + draws) × leapfrog steps), divergences, median bulk ESS;
* calibration over the converged galaxies: the fraction of truths inside the central 68 %
  and 95 % intervals, averaged over every parameter and derived quantity
  (:func:`sedjax.analysis.calibration.calibration_tables`, as the workflow's calibration).

``best`` names the entry with the most converged galaxies per second among those whose
coverage is within ``coverage_tol`` of 0.68 and 0.95 (None if none is). Nothing here
asserts on timings; rule ``bench_hmc`` writes the record.
"""

from __future__ import annotations

import time

import numpy as np

NOMINAL = {"cov68": 0.68, "cov95": 0.95}


def coverage(table) -> dict:
    """68 % / 95 % coverage of the truths over the converged rows of a
    :func:`~sedjax.analysis.calibration.summary_table`, from
    :func:`~sedjax.analysis.calibration.calibration_tables` (the workflow's calibration),
    averaged over the quantities."""
    from sedjax.analysis.calibration import calibration_tables

    cal, _ = calibration_tables({"hmc": table})
    if cal.empty or not np.isfinite(cal["coverage_68"]).any():
        return {"cov68": float("nan"), "cov95": float("nan"), "n_quantities": 0}
    return {"cov68": float(np.nanmean(cal["coverage_68"])), "cov95": float(np.nanmean(cal["coverage_95"])),
            "n_quantities": int(np.isfinite(cal["coverage_68"]).sum())}


def kernel_record(res, run_wall_s: float, opts) -> dict:
    """One kernel's numbers from its :class:`~sedjax.fitting.batch_result.BatchResult`."""
    from sedjax.analysis.calibration import summary_table

    d = res.diagnostics
    tp = res.throughput()
    ok = np.asarray(res.status) == "ok"
    n = len(res)
    lf, lf_warm = np.asarray(d["n_leapfrog_mean"], float), np.asarray(d["n_leapfrog_warmup_mean"], float)
    grads = opts.n_chains * (opts.n_warmup * lf_warm + opts.hmc_draws_per_chain * lf)
    # the reasons' kinds (the text before the first ":"; the numbers after it differ per galaxy)
    kinds = [str(r).split(":")[0] for r in np.asarray(res.reason)[~ok]]
    reasons, counts = np.unique(np.asarray(kinds, dtype=str), return_counts=True)
    return {
        "n_galaxies": n,
        "frac_hmc_path": float(np.mean(np.asarray(d["path"]) == 1)),
        "n_converged": int(ok.sum()),
        "frac_converged": float(ok.mean()),
        "compile_s": tp["compile_s"],
        "run_s": tp["run_s"],
        "wall_s": run_wall_s,
        "s_per_galaxy": tp["run_s"] / n,
        "converged_per_s": float(ok.sum()) / tp["run_s"] if tp["run_s"] > 0 else float("nan"),
        "leapfrog_per_draw_mean": float(np.nanmean(lf)),
        "leapfrog_per_warmup_step_mean": float(np.nanmean(lf_warm)),
        "gradients_per_galaxy_mean": float(np.nanmean(grads)),
        "gradients_per_ess_median": float(np.nanmedian(grads / np.asarray(d["ess_bulk_min"], float))),
        "ess_bulk_min_median": float(np.nanmedian(np.asarray(d["ess_bulk_min"], float))),
        "rhat_max_median": float(np.nanmedian(np.asarray(d["rhat_max"], float))),
        "n_divergent": int(np.nansum(np.asarray(d["n_divergent"], float))),
        "failure_reasons": {str(r): int(c) for r, c in zip(reasons, counts)},
        "calibration": coverage(summary_table(res)),
    }


def best_kernel(kernels: dict, tol: float) -> str | None:
    """The kernel with the most converged galaxies per second among the calibrated ones."""
    calibrated = {k: v for k, v in kernels.items()
                  if all(abs(v["calibration"][q] - NOMINAL[q]) <= tol for q in NOMINAL)}
    if not calibrated:
        return None
    return max(calibrated, key=lambda k: calibrated[k]["converged_per_s"])


def bench_hmc(model, arrays: dict, truth: dict, kernels: dict, options: dict | None = None, seed: int = 0,
              mode: str = "fast", sys_frac: float = 0.0, coverage_tol: float = 0.05, log=None) -> dict:
    """The ``bench_hmc`` record for the galaxies in ``arrays`` (:func:`sedjax.fitting.inputs.catalog_rows`);
    ``kernels``: name -> ``auto`` options over ``options``."""
    from sedjax.fitting.batch import fit_batch
    from sedjax.inference import make_opts

    log = log or (lambda *a: None)
    n = len(arrays["ids"])
    out = {}
    for name, fields in kernels.items():
        fields = {**dict(options or {}), **dict(fields), "k_max": -1.0}
        opts = make_opts("auto", **fields)
        t0 = time.perf_counter()
        res = fit_batch(model, arrays, "auto", seed=seed, mode=mode, sys_frac=sys_frac, options=fields,
                        chunk_size=n, truth=truth, log=None)
        rec = kernel_record(res, time.perf_counter() - t0, opts)
        rec["options"] = {k: getattr(opts, k) for k in opts.__dataclass_fields__}
        out[name] = rec
        log(f"{name} ({opts.hmc_kernel}, {opts.n_chains} x {opts.hmc_draws_per_chain} draws): "
            f"{rec['n_converged']}/{n} converged, {rec['s_per_galaxy']:.2f} s/galaxy, "
            f"{rec['converged_per_s']:.3f} converged galaxies/s, {rec['leapfrog_per_draw_mean']:.1f} leapfrog/draw, "
            f"coverage {rec['calibration']['cov68']:.3f}/{rec['calibration']['cov95']:.3f}")
    return {
        "benchmark": "hmc",
        "n_galaxies": n,
        "mode": mode,
        "sys_frac": float(sys_frac),
        "kernels": out,
        "coverage_tol": coverage_tol,
        "best": best_kernel(out, coverage_tol),
    }


def is_rejected_rows(model, arrays: dict, options: dict, seed: int, mode: str, sys_frac: float) -> np.ndarray:
    """Indices of the galaxies in ``arrays`` that ``auto``'s IS stage does not accept: the ``is``
    backend with ``auto``'s IS options and the key ``auto`` gives its IS stage
    (:func:`sedjax.inference.backends.auto.stage_is`), so these are the galaxies a catalogue
    fit sends down the HMC path."""
    from dataclasses import asdict

    import jax

    from sedjax.fitting.batch import fit_batch
    from sedjax.fitting.inputs import galaxy_keys
    from sedjax.inference import make_opts

    is_opts = asdict(make_opts("auto", **dict(options or {})).is_opts())
    keys = jax.vmap(lambda k: jax.random.split(k)[0])(galaxy_keys(seed, arrays["ids"]))
    res = fit_batch(model, arrays, "is", keys, seed=seed, mode=mode, sys_frac=sys_frac, options=is_opts,
                    chunk_size=min(len(arrays["ids"]), 250), log=None)
    return np.flatnonzero(~np.asarray(res.diagnostics["is_accepted"], bool))


def run_hmc_benchmark(model_cfg: dict, ssp_path, catalog_path, cfg: dict, fit_cfg: dict, options: dict,
                      mock_redshift=None, runtime: dict | None = None, log=None) -> dict:
    """The rule's record: ``cfg`` = ``benchmarks.hmc``, ``fit_cfg`` = ``fit``, ``options`` =
    the batch's ``auto`` options (under each entry of ``cfg["kernels"]``); with provenance."""
    import logging

    from sedjax.bench.record import cache_state, provenance
    from sedjax.catalog.table import read_catalog
    from sedjax.fitting.inputs import catalog_rows
    from sedjax.model.from_config import model_from_config, redshift_range

    log = log if log is not None else logging.getLogger("sedjax.bench")
    cache_at_start = cache_state()
    cat = read_catalog(catalog_path, model_cfg["bands"], log=log.warning)
    model = model_from_config(model_cfg, ssp_path, z_range=redshift_range(model_cfg, mock_redshift, cat.redshift))
    seed, mode, sys_frac = int(fit_cfg["seed"]), fit_cfg["mode"], float(fit_cfg["sys_frac"])
    if cfg["population"] == "first":
        arrays, truth = catalog_rows(cat, 0, min(int(cfg["n_galaxies"]), len(cat)))
        n_pool = None
    else:
        n_pool = min(int(cfg["pool_size"]), len(cat))
        pool, pool_truth = catalog_rows(cat, 0, n_pool)
        t0 = time.perf_counter()
        rows = is_rejected_rows(model, pool, options, seed, mode, sys_frac)[: int(cfg["n_galaxies"])]
        log.info(f"IS triage of {n_pool} galaxies: {rows.size} rejected (kept), {time.perf_counter() - t0:.0f} s")
        if rows.size == 0:
            raise ValueError(f"IS accepted all {n_pool} galaxies of {catalog_path}: no galaxy for the HMC "
                             "benchmark; use a larger mock (mock.n_galaxies, benchmarks.hmc.pool_size) or "
                             "benchmarks.hmc.population: first")
        arrays = {k: np.asarray(v)[rows] for k, v in pool.items()}
        truth = {k: np.asarray(v)[rows] for k, v in pool_truth.items()}
    out = bench_hmc(model, arrays, truth, cfg["kernels"], options=dict(options or {}),
                    seed=seed, mode=mode, sys_frac=sys_frac, coverage_tol=float(cfg["coverage_tol"]), log=log.info)
    out["catalog"] = str(catalog_path)
    out["population"] = cfg["population"]
    out["pool_size"] = n_pool
    out["ids"] = np.asarray(arrays["ids"]).tolist()
    out["device"] = "cpu"
    out["provenance"] = provenance(model, cache=cache_at_start, extra={"runtime": runtime})
    return out
