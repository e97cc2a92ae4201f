"""Per-job runtime set-up for workflow scripts (logging, JAX under a scheduler) and the
library's persistent compilation cache.

Call :func:`configure_jax` at the top of a script, before any JAX computation: it sets
the platform (``cpu``/``gpu``), disables GPU memory preallocation, sizes CPU threads to the
job's allocation and points the persistent compilation cache at a directory keyed by the
host's CPU model and accelerator kind, so nodes of different kinds never share one.

For library use (a notebook, a script), ``import sedjax`` turns JAX's persistent
compilation cache on (:func:`enable_library_cache`) at :func:`library_cache_dir`
(``~/.cache/sedjax/jax/host-<CPU model hash>``, or ``$SEDJAX_COMPILATION_CACHE``; ``0`` or
``off`` opts out), so a new process that compiles a program compiled before loads it in
seconds. An entry is found again only for the same program: JAX keys it by the compiled
program (which embeds the model's tables, bands, spec and the backend's options), the
jax/jaxlib versions, XLA flags and compile options, and the device; any change to those or
to the package's code that changes the program compiles anew (old entries stay until the
directory is deleted: JAX does not evict them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from pathlib import Path


def setup_logging(log_path=None, name="sedjax") -> logging.Logger:
    """Log INFO to stderr and (if given) to ``log_path``; returns the named logger.

    With ``log_path``, an uncaught exception's traceback is also written to the log file
    (``sys.excepthook``; the previous hook still prints it to stderr), so a failed job's
    log says why it failed.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    file_handler = None
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_path, mode="w")
        handlers.append(file_handler)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(name)
    if file_handler is not None:
        previous = sys.excepthook

        def log_uncaught(exc_type, exc, tb):
            record = logger.makeRecord(name, logging.CRITICAL, __file__, 0, "job failed with an uncaught exception",
                                       None, (exc_type, exc, tb))
            file_handler.handle(record)
            file_handler.flush()
            previous(exc_type, exc, tb)

        sys.excepthook = log_uncaught
    return logger


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
    from sedjax.io.provenance import cpu_model

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


CACHE_ENV = "SEDJAX_COMPILATION_CACHE"
"""Environment variable: a directory for the library's persistent compilation cache, or
``0`` / ``off`` / ``false`` / ``no`` to leave JAX's cache off."""
CACHE_OFF = ("0", "off", "false", "no")
LIBRARY_CACHE_MIN_COMPILE_S = 0.5
"""Programs that compile faster than this are not written to the persistent cache."""


def library_cache_dir(environ=None) -> Path | None:
    """Where the library keeps JAX's persistent compilation cache, or None when opted out.

    ``$SEDJAX_COMPILATION_CACHE`` when it names a directory (``0``/``off``/``false``/``no``:
    None), else ``$XDG_CACHE_HOME/sedjax/jax`` (default ``~/.cache/sedjax/jax``); either
    way in a subdirectory keyed by the CPU model (:func:`cache_dir_for_host`), so machines
    of different kinds sharing a home directory never share compiled code.
    """
    env = os.environ if environ is None else environ
    value = env.get(CACHE_ENV, "").strip()
    if value.lower() in CACHE_OFF:
        return None
    if value:
        root = Path(value).expanduser()
    else:
        root = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "sedjax" / "jax"
    from sedjax.io.provenance import cpu_model

    return root / f"host-{hashlib.sha256(cpu_model().encode()).hexdigest()[:16]}"


def enable_library_cache(jax_config=None) -> Path | None:
    """Turn JAX's persistent compilation cache on for library use (``import sedjax`` calls it).

    Does nothing when the user opted out (:data:`CACHE_ENV`) or already chose a cache
    directory (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``); workflow jobs set their own
    per-host directory with :func:`configure_jax`. JAX reads the setting at its first
    compilation, so this must run before it (importing sedjax before any JAX computation).
    Before JAX is imported the setting goes through the environment (``JAX_*`` variables,
    read when JAX is imported). Returns the directory set, or None.
    """
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    if jax_config is not None and jax_config.jax_compilation_cache_dir:
        return None
    cache = library_cache_dir()
    if cache is None:
        return None
    if jax_config is None:
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache)
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(LIBRARY_CACHE_MIN_COMPILE_S))
    else:
        jax_config.update("jax_compilation_cache_dir", str(cache))
        if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
            jax_config.update("jax_persistent_cache_min_compile_time_secs", LIBRARY_CACHE_MIN_COMPILE_S)
    return cache


def gpu_available() -> bool:
    """True when JAX can see a GPU (initialises the GPU backend if present)."""
    import jax

    try:
        return len(jax.devices("gpu")) > 0
    except RuntimeError:
        return False


def _start_cpu_client(n_workers: int) -> int:
    """Create JAX's CPU client with an intra-op pool of ``n_workers`` threads.

    XLA sizes that pool from the CPU affinity of the thread that creates the client (the
    ``intra_op_parallelism_threads`` flag is not read by the PjRt CPU client). So the
    client is created while this thread is pinned to ``n_workers`` of the allowed CPUs,
    and then every thread of the process gets the full allowed set back: the pool is
    small, the scheduler still places its threads on any allowed core.

    Why it matters beyond speed: jaxlib 0.10's CPU LAPACK kernels (QR, LU, Cholesky, eigh)
    split a batched call into chunks on the same pool and block until they finish; when
    as many such calls run at once as the pool has threads, every worker waits and the
    program hangs (seen in vmapped Pathfinder: two workers in ``ParallelBatchMap``). A
    one-worker pool cannot deadlock that way, so batched fits run with one worker.

    Returns the number of workers asked for (the allowed CPU count if not restricted).
    """
    import jax

    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - non-Linux: leave XLA's default
        jax.devices("cpu")
        return os.cpu_count() or 1
    if n_workers >= len(allowed):
        jax.devices("cpu")
        return len(allowed)
    os.sched_setaffinity(0, set(sorted(allowed)[:n_workers]))
    try:
        jax.devices("cpu")
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), allowed)
            except OSError:  # a thread that ended meanwhile
                pass
    return n_workers


def configure_jax(device: str = "cpu", threads: int | None = None, cache_root=".jax_cache") -> dict:
    """Set JAX's platform, memory, CPU worker threads and persistent compilation cache.

    Must run before the first JAX computation of the process (it creates the CPU client).
    ``threads`` (default: the job's allocation) sizes XLA's CPU intra-op pool; pass 1 for
    programs with batched linear algebra on the CPU (see :func:`_start_cpu_client`).
    ``cache_root``: the persistent compilation cache goes to a per-host directory under it
    (:func:`cache_dir_for_host`); None: no persistent cache at all (cold-compile benchmarks),
    not even the library's default (:func:`enable_library_cache`).

    Returns
    -------
    dict describing what was set (for provenance).
    """
    if device not in ("cpu", "gpu"):
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    n = threads or allocated_cpus()
    import jax

    jax.config.update("jax_platforms", "cpu" if device == "cpu" else "cuda,cpu")
    cache = None
    if cache_root:
        cache = cache_dir_for_host(cache_root, device)
        cache.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    else:  # no cache: also not the library's default one (enable_library_cache)
        jax.config.update("jax_compilation_cache_dir", None)
    n = _start_cpu_client(n)
    if device == "gpu":
        jax.config.update("jax_default_matmul_precision", "highest")
        if not gpu_available():
            logging.getLogger("sedjax.io.runtime").warning(
                "device 'gpu' requested but JAX sees no GPU on %s: running on CPU", os.uname().nodename
            )
    return {"device": device, "threads": n, "compilation_cache": str(cache) if cache else None}
