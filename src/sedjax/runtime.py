"""Per-job runtime set-up for workflow scripts: logging and JAX under a scheduler.

Call :func:`configure_jax` at the top of a script, before any JAX computation: it sets
the platform (``cpu``/``gpu``), disables GPU memory preallocation, sizes CPU threads to the
job's allocation and points the persistent compilation cache at a directory keyed by the
host's CPU model and accelerator kind, so nodes of different kinds never share one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path


def setup_logging(log_path=None, name="sedjax") -> logging.Logger:
    """Log INFO to stderr and (if given) to ``log_path``; returns the named logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger(name)


def allocated_cpus() -> int:
    """CPUs this job may use: SLURM_CPUS_PER_TASK, else the process affinity mask."""
    for var in ("SLURM_CPUS_PER_TASK", "SNAKEMAKE_THREADS"):
        if os.environ.get(var, "").isdigit():
            return max(int(os.environ[var]), 1)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def cache_dir_for_host(root, platform: str) -> Path:
    """A compilation-cache directory keyed by CPU model and accelerator kind."""
    from .provenance import cpu_model

    accel = platform
    if platform == "gpu":
        # the model of the GPU this job was given (first visible device), not the node's list
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
        accel = "gpu-unknown"
        try:
            import subprocess

            cmd = ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"]
            if visible:
                cmd += ["-i", visible]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()
            if out:
                accel = "gpu-" + out[0].strip()
        except Exception:
            pass
    key = hashlib.sha256(f"{cpu_model()}|{accel}".encode()).hexdigest()[:16]
    return Path(root) / f"{platform}-{key}"


def gpu_available() -> bool:
    """True when JAX can see a GPU (initialises the GPU backend if present)."""
    import jax

    try:
        return len(jax.devices("gpu")) > 0
    except RuntimeError:
        return False


def configure_jax(device: str = "cpu", threads: int | None = None, cache_root=".jax_cache") -> dict:
    """Set JAX's platform, memory, threads and persistent compilation cache.

    Must run before the first JAX computation of the process.

    Returns
    -------
    dict describing what was set (for provenance).
    """
    if device not in ("cpu", "gpu"):
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    n = threads or allocated_cpus()
    if device == "cpu":
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (flags + f" --xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={n}").strip()
    import jax

    jax.config.update("jax_platforms", "cpu" if device == "cpu" else "cuda,cpu")
    cache = None
    if cache_root:
        cache = cache_dir_for_host(cache_root, device)
        cache.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    if device == "gpu":
        jax.config.update("jax_default_matmul_precision", "highest")
        if not gpu_available():
            logging.getLogger("sedjax.runtime").warning(
                "device 'gpu' requested but JAX sees no GPU on %s: running on CPU", os.uname().nodename
            )
    return {"device": device, "threads": n, "compilation_cache": str(cache) if cache else None}
