"""One benchmark job, from the rule's settings to the record its script writes.

* :func:`run_benchmark` -- rule ``bench`` (one job per name: jit, grad, vmap, cache,
  peer; the bodies in :mod:`sedjax.bench.forward`,
  :mod:`sedjax.bench.cache`, :mod:`sedjax.bench.peer`);
* :func:`run_sampler_benchmark` -- rule ``bench_sampler`` (:mod:`sedjax.bench.sampler`);
* :func:`run_batch_benchmark` -- rule ``bench_batch`` (:mod:`sedjax.bench.batch`).

Each builds the model, runs the body and returns the JSON-ready record with ``device``,
``runtime``, ``model_config`` (and ``wall_s``) added. JAX must already be configured
(:func:`sedjax.bench.job.start_benchmark_job` or :func:`sedjax.io.runtime.configure_jax`).
"""

from __future__ import annotations

import logging
import time

from sedjax.bench import BENCHMARK_NAMES
from sedjax.bench.batch import bench_batch
from sedjax.bench.cache import bench_cache
from sedjax.bench.forward import bench_grad, bench_jit, bench_vmap, benchmark_params
from sedjax.bench.peer import bench_peer
from sedjax.bench.record import cache_state, provenance
from sedjax.bench.sampler import bench_sampler, sampler_options
from sedjax.catalog.table import CatalogError, read_catalog
from sedjax.fitting.inputs import catalog_rows
from sedjax.model.from_config import model_from_config, redshift_range

# in-process bodies of run_benchmark: (model, params, bench_cfg, repeats) -> record
_IN_PROCESS = {
    "jit": lambda model, params, cfg, repeats: bench_jit(model, params, repeats=repeats),
    "grad": lambda model, params, cfg, repeats: bench_grad(
        model, params, batch=int(cfg["grad_batch"]), repeats=repeats
    ),
    "vmap": lambda model, params, cfg, repeats: bench_vmap(
        model, cfg["batch_sizes"], repeats=repeats, loop_max=int(cfg["loop_max"])
    ),
    "peer": lambda model, params, cfg, repeats: bench_peer(model, params, repeats=repeats),
}


def _logger(log):
    return log if log is not None else logging.getLogger("sedjax.bench")


def run_benchmark(name: str, model_cfg: dict, ssp_path, device: str, bench_cfg: dict, threads=None,
                  dtype: str = "float64", runtime: dict | None = None, log=None) -> dict:
    """The record of benchmark ``name`` (one of :data:`BENCHMARK_NAMES`) on ``device``.

    ``bench_cfg``: the ``benchmarks`` config section (``repeats``, ``seed``, ``grad_batch``,
    ``batch_sizes``, ``loop_max``); ``threads``: the job's cores (the cache benchmark's
    subprocesses); ``runtime``: what :func:`sedjax.io.runtime.configure_jax` set. The
    in-process benchmarks add ``params`` (the benchmark point) and report the compilation
    cache state from before the model's construction (which compiles its fast tables).
    """
    if name not in BENCHMARK_NAMES:
        raise ValueError(f"unknown benchmark {name!r}; expected jit, grad, vmap, cache or peer")
    log = _logger(log)
    cache_at_start = cache_state()
    t0 = time.perf_counter()
    repeats = int(bench_cfg["repeats"])
    if name == "cache":
        log.info("cache: cold and warm subprocesses (model %s, %s)", model_cfg.get("sfh", "dpl"), dtype)
        result = bench_cache(model_cfg, ssp_path, device=device, mode="fast", threads=threads, dtype=dtype)
    else:
        model = model_from_config(model_cfg, ssp_path, dtype=dtype)
        log.info("model built in %.1f s (%s, bands %s)", time.perf_counter() - t0, dtype, model.bands)
        params = benchmark_params(model, seed=int(bench_cfg.get("seed", 0)))
        result = _IN_PROCESS[name](model, params, bench_cfg, repeats)
        if name == "peer" and result.get("bagpipes_error"):
            log.error("bagpipes failed (recorded in the JSON): %s", result["bagpipes_error"]["message"])
        result["params"] = {k: float(v) for k, v in params.items()}
        # the model's own construction compiled fast_tables: report the cache state before that
        result["provenance"]["compilation_cache"] = cache_at_start
    result["device"] = device
    result["runtime"] = runtime
    result["model_config"] = model_cfg
    result["wall_s"] = time.perf_counter() - t0
    return result


def run_sampler_benchmark(model_cfg: dict, ssp_path, catalog_path, cfg: dict, fit_cfg: dict,
                          backend_options: dict, device: str, dtype: str = "float64",
                          runtime: dict | None = None, log=None) -> dict:
    """The ``bench_sampler`` record: every backend of ``cfg["backends"]`` on galaxy ``cfg["galaxy_id"]``.

    ``cfg``: ``benchmarks.sampler`` with its defaults (``galaxy_id``, ``backends``,
    ``warm_repeats``, ``seed``, ``options``); each backend runs with ``backend_options``
    updated by ``cfg["options"]`` (:func:`sedjax.bench.sampler.sampler_options`);
    ``fit_cfg``: the ``fit`` section (``mode``, ``sys_frac``).
    """
    log = _logger(log)
    t0 = time.perf_counter()
    model = model_from_config(model_cfg, ssp_path, dtype=dtype)
    cat = read_catalog(catalog_path, model.bands, log=log.warning)
    try:
        obs = cat.row(cfg["galaxy_id"])
    except CatalogError as exc:
        raise ValueError(f"{catalog_path}: {exc} (benchmarks.sampler.galaxy_id)") from exc
    options = sampler_options(cfg["backends"], backend_options, cfg.get("options"))
    log.info("galaxy %s, backends %s, options %s", cfg["galaxy_id"], cfg["backends"], options)
    result = bench_sampler(
        model, obs, backends=cfg["backends"], options=options, seed=int(cfg.get("seed", 0)),
        warm_repeats=int(cfg["warm_repeats"]), mode=fit_cfg["mode"], sys_frac=fit_cfg["sys_frac"],
        galaxy_id=cfg["galaxy_id"], log=log.info,
    )
    failed = [name for name, r in result["backends"].items() if r.get("error")]
    if failed:
        log.error("backends that raised (recorded in the JSON): %s", failed)
    result["device"] = device
    result["runtime"] = runtime
    result["model_config"] = model_cfg
    result["wall_s"] = time.perf_counter() - t0
    return result


def run_batch_benchmark(model_cfg: dict, ssp_path, catalog_path, backend: str, n_galaxies: int, fit_cfg: dict,
                        options: dict, mock_redshift=None, runtime: dict | None = None, log=None) -> dict:
    """The ``bench_batch`` record: the catalogue's first ``n_galaxies`` galaxies fitted batched and looped (CPU).

    ``fit_cfg``: the ``fit`` section (``seed``, ``mode``, ``sys_frac``); ``options``: the
    backend's batch options; ``mock_redshift``: the mock's redshift setting (the model's
    redshift range, as the batch fits).
    """
    log = _logger(log)
    cache_at_start = cache_state()
    model = model_from_config(model_cfg, ssp_path, z_range=redshift_range(model_cfg, mock_redshift))
    cat = read_catalog(catalog_path, model.bands, log=log.warning)
    arrays, _ = catalog_rows(cat, 0, min(int(n_galaxies), len(cat)))
    options = dict(options)
    log.info("%s: %d galaxies, options %s", backend, len(arrays["ids"]), options)
    out = bench_batch(model, arrays, backend, seed=int(fit_cfg["seed"]), mode=fit_cfg["mode"],
                      sys_frac=fit_cfg["sys_frac"], options=options, log=log.info)
    out["device"] = "cpu"
    out["provenance"] = provenance(model, cache=cache_at_start, extra={"runtime": runtime})
    log.info(
        "%s: batched %.2f gal/s (compile %.1f s), looped %.2f gal/s (compile %.1f s first), ratio %.1fx run, %.1fx wall",
        backend, out["batched"]["gal_per_s"], out["batched"]["compile_s"], out["looped"]["gal_per_s"],
        out["looped"]["compile_s_first"], out["ratio_run"], out["ratio_wall"],
    )
    return out
