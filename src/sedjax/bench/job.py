"""Start of a benchmark rule's job: JAX configured for the device, logging, GPU-less skip.

Light at import (no JAX): a script calls :func:`start_benchmark_job` before importing
the benchmark bodies, since JAX must be configured before its first computation.
"""

from __future__ import annotations

import os

from sedjax.io.jsonio import write_json
from sedjax.io.runtime import configure_jax, gpu_available, setup_logging


def benchmark_dtype(device: str, bench_cfg: dict) -> str:
    """The benchmark precision: ``bench_cfg["gpu_dtype"]`` (default float64) on a GPU, float64 on CPU."""
    return bench_cfg.get("gpu_dtype", "float64") if device == "gpu" else "float64"


def start_benchmark_job(device: str, threads, bench_cfg: dict, log_path, name: str, out_path):
    """Common start of a benchmark rule's script.

    Configures JAX for ``device`` (the persistent compilation cache only when
    ``bench_cfg["compilation_cache"]`` is true, so that compile times are real
    compilations), sets up logging, and on ``device == "gpu"`` with no GPU visible writes
    ``{"skipped": true, "reason": ...}`` to ``out_path`` and returns ``None``.

    Returns
    -------
    (runtime, log, dtype) or None when the job was skipped: ``runtime`` is
    :func:`sedjax.io.runtime.configure_jax`'s description, ``dtype`` the benchmark
    precision (:func:`benchmark_dtype`).
    """
    runtime = configure_jax(
        device, threads=threads, cache_root=".jax_cache" if bench_cfg.get("compilation_cache", False) else None
    )
    log = setup_logging(log_path, f"bench_{name}")
    if device == "gpu" and not gpu_available():
        from sedjax.bench.record import provenance  # imports JAX: only after configure_jax

        reason = f"no GPU visible to JAX on {os.uname().nodename}"
        log.warning("bench_%s on gpu skipped: %s", name, reason)
        write_json(
            out_path,
            {"benchmark": name, "device": device, "skipped": True, "reason": reason, "provenance": provenance()},
        )
        return None
    return runtime, log, benchmark_dtype(device, bench_cfg)
