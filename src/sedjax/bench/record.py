"""What every benchmark record carries: where and how it ran, and errors recorded (not raised).

:func:`provenance` is the ``provenance`` block of each benchmark JSON (device, host,
versions, precision, BLAS, commit, date, compilation-cache state); :func:`cache_state`
the state of JAX's persistent compilation cache before the measured compilations;
:func:`error_record` an exception as a JSON-ready dict.
"""

from __future__ import annotations

import os
import platform
import traceback
from pathlib import Path

import jax

from sedjax.io.provenance import cpu_model, git_commit, package_versions, utc_now
from sedjax.io.runtime import allocated_cpus

BENCH_PACKAGES = ("sedjax", "jax", "jaxlib", "blackjax", "numpy", "bagpipes", "astro-sedpy")


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


def blas_info() -> list:
    """BLAS libraries NumPy loaded and their thread counts (threadpoolctl; [] without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer")
    return [{k: d.get(k) for k in keys} for d in threadpool_info() if d.get("user_api") == "blas"]


def _model_info(model) -> dict:
    """Bands, physics choices and sizes of an SEDModel."""
    n_met, n_age, n_wave = model.ssp_table_shape
    return {
        "bands": list(model.bands),
        "sfh": model.spec.mean_sfh_type,
        "dust_law": model.dust_law,
        "igm": model.igm,
        "n_met": n_met,
        "n_age": n_age,
        "n_wave_native": n_wave,
        "n_wave_integration": int(model.grid.wave_rest_aa.shape[0]),
        "n_subbins": model.n_subbins,
        "fixed_redshift": model.fixed_redshift,
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
        out["model"] = _model_info(model)
    else:
        out["float_precision"] = "float64" if jax.config.jax_enable_x64 else "float32"
    if extra:
        out.update(extra)
    return out


def error_record(exc: BaseException) -> dict:
    """An exception as a JSON-ready dict: ``type``, ``message``, ``traceback`` (last 20 frames).

    Call it inside the ``except`` block (the traceback is the one being handled).
    """
    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": traceback.format_exc(limit=20),
    }
