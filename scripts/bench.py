"""Rules ``bench_jit``, ``bench_grad``, ``bench_vmap``, ``bench_cache``, ``bench_peer``.

One script for every benchmark: ``params.name`` picks the body in :mod:`sedjax.bench.core`;
the ``device`` wildcard picks the JAX platform. On ``device == "gpu"`` with no GPU visible
to JAX it writes ``{"skipped": true, "reason": ...}`` and exits 0.

The persistent compilation cache is off by default here (``benchmarks.compilation_cache``)
so that the compile times measured in-process are real compilations; ``bench_cache``
measures the cache itself in subprocesses with their own temporary directory.
"""

import sys
import time

from sedjax.io.runtime import start_benchmark_job

smk = snakemake  # noqa: F821 (snakemake object)
device = smk.wildcards.device
bench_cfg = smk.params.bench
name = smk.params.name
out_path = smk.output[0]
started = start_benchmark_job(device, smk.threads, bench_cfg, smk.log[0], name, out_path)
if started is None:  # gpu requested, none visible: skip record written
    sys.exit(0)
runtime, log, dtype = started

from sedjax.bench import core as bench  # noqa: E402
from sedjax.model.from_config import model_from_config  # noqa: E402

model_cfg = smk.params.model
cache_at_start = bench.cache_state()
t0 = time.perf_counter()
repeats = int(bench_cfg["repeats"])

if name == "cache":
    log.info("cache: cold and warm subprocesses (model %s, %s)", model_cfg.get("sfh", "dpl"), dtype)
    result = bench.bench_cache(model_cfg, smk.input.ssp, device=device, mode="fast", threads=smk.threads, dtype=dtype)
else:
    model = model_from_config(model_cfg, smk.input.ssp, dtype=dtype)
    log.info("model built in %.1f s (%s, bands %s)", time.perf_counter() - t0, dtype, model.bands)
    params = bench.benchmark_params(model, seed=int(bench_cfg.get("seed", 0)))
    if name == "jit":
        result = bench.bench_jit(model, params, repeats=repeats)
    elif name == "grad":
        result = bench.bench_grad(model, params, batch=int(bench_cfg["grad_batch"]), repeats=repeats)
    elif name == "vmap":
        result = bench.bench_vmap(model, bench_cfg["batch_sizes"], repeats=repeats, loop_max=int(bench_cfg["loop_max"]))
    elif name == "peer":
        result = bench.bench_peer(model, params, repeats=repeats)
        if result.get("bagpipes_error"):
            log.error("bagpipes failed (recorded in the JSON): %s", result["bagpipes_error"]["message"])
    else:
        raise ValueError(f"unknown benchmark {name!r}; expected jit, grad, vmap, cache or peer")
    result["params"] = {k: float(v) for k, v in params.items()}
    # the model's own construction compiled fast_tables: report the cache state before that
    result["provenance"]["compilation_cache"] = cache_at_start

result["device"] = device
result["runtime"] = runtime
result["model_config"] = model_cfg
result["wall_s"] = time.perf_counter() - t0
bench.write_json(out_path, result)
log.info("bench_%s (%s) done in %.1f s -> %s", name, device, result["wall_s"], out_path)
