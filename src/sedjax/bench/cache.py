"""Persistent compilation cache benchmark: time to first result in a cold vs a warm process.

Each measurement runs :mod:`sedjax.bench.cache_child` in a fresh Python subprocess, so
that neither JAX's in-memory caches nor this process's state can serve a compilation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sedjax.bench.record import provenance
from sedjax.bench.timing import ratio
from sedjax.io.runtime import allocated_cpus

CHILD_MODULE = "sedjax.bench.cache_child"


def run_child(module: str, args: dict, timeout: float, env: dict | None = None) -> dict:
    """Run ``python -m <module> <json args>`` (environment ``env``, default this process's);
    the dict of its last ``RESULT {json}`` line plus ``process_wall_s``. Raises
    ``RuntimeError`` with the child's stderr when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", module, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{module} subprocess failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    res["process_wall_s"] = wall
    return res


def run_cache_child(args: dict, timeout: float) -> dict:
    """Run ``python -m sedjax.bench.cache_child <json args>``; its RESULT dict plus ``process_wall_s``."""
    return run_child(CHILD_MODULE, args, timeout)


def _files(directory) -> list[Path]:
    return [f for f in Path(directory).rglob("*") if f.is_file()]


def bench_cache(model_cfg: dict, ssp_path, device: str = "cpu", mode: str = "fast", threads: int | None = None, dtype: str = "float64", cache_dir=None, timeout: float = 900) -> dict:
    """Persistent compilation cache: time to first result in a cold vs a warm process.

    Runs two fresh Python subprocesses that each build the model (``model_from_config``)
    and compute one jitted ``predict_photometry`` and one jitted ``grad`` of the
    log-likelihood: the first with an empty cache directory (cold), the second with the
    same directory (warm). ``first_result_s`` is model-built -> gradient ready (includes
    the model's own fast-table compilation only in ``model_build_s``).
    """
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
        cold = run_cache_child(args, timeout)
        n_entries = len(_files(tmp))
        cache_bytes = sum(f.stat().st_size for f in _files(tmp))
        warm = run_cache_child(args, timeout)
    finally:
        if own_tmp:
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
