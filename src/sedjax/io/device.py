"""Device probe (rule ``device_probe``): which CPU/GPU a job actually sees, as a JSON record.

:func:`probe_device` never fails for lack of a GPU: with ``device="gpu"`` on a machine (or
a CI Slurm node with a fake GRES) without a usable CUDA device it records
``gpu_present: false`` and the reason. It configures JAX
(:func:`sedjax.io.runtime.configure_jax`), so call it before anything else in the process
uses JAX.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import socket
import time

from sedjax.io.atomic import atomic_output
from sedjax.io.runtime import configure_jax

# scheduler and CUDA variables recorded as they are (None when unset)
ENV_VARS = (
    "CUDA_VISIBLE_DEVICES",
    "SLURM_JOB_ID",
    "SLURM_JOB_PARTITION",
    "SLURM_JOB_GPUS",
    "SLURM_CPUS_PER_TASK",
)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def job_environment(device: str, threads: int) -> dict:
    """What the job was given: the device asked for, scheduler/CUDA variables, host, Python."""
    return {
        "device": device,
        **{var: os.environ.get(var) for var in ENV_VARS},
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "threads": threads,
    }


def jax_devices_record(device: str, log: logging.Logger) -> dict:
    """JAX's version, backend and devices, the GPUs it sees and one tiny computation.

    Keys: ``jax_version``, ``jax_backend``, ``jax_devices``, ``jax_platforms_seen``,
    ``gpu_present``, ``gpu_devices``, ``check_sum`` (sum of ``arange(4.0)``, 6.0 when the
    default backend works); on failures ``jax_error``, ``gpu_error``, ``check_error``
    (``"Type: message"``); ``note`` when ``device == "gpu"`` but no GPU is visible.
    """
    import jax

    record = {"jax_version": jax.__version__}
    try:
        devices = jax.devices()
        record["jax_backend"] = jax.default_backend()
        record["jax_devices"] = [str(d) for d in devices]
        record["jax_platforms_seen"] = sorted({d.platform for d in devices})
    except Exception as exc:
        log.warning("jax.devices() failed: %s", exc)
        record["jax_backend"] = None
        record["jax_devices"] = []
        record["jax_platforms_seen"] = []
        record["jax_error"] = _error(exc)

    try:
        gpus = jax.devices("gpu")
    except Exception as exc:  # RuntimeError: no GPU backend / no CUDA device
        gpus = []
        record["gpu_error"] = _error(exc)
    record["gpu_present"] = len(gpus) > 0
    record["gpu_devices"] = [str(d) for d in gpus]
    if device == "gpu" and not gpus:
        record["note"] = "no GPU visible"
        log.warning("device=gpu requested but no GPU visible to JAX (CUDA_VISIBLE_DEVICES=%s)",
                    os.environ.get("CUDA_VISIBLE_DEVICES"))

    try:  # one tiny computation on the default device proves the backend works
        import jax.numpy as jnp

        record["check_sum"] = float(jnp.arange(4.0).sum())
    except Exception as exc:
        record["check_sum"] = None
        record["check_error"] = _error(exc)
    return record


def probe_device(device: str, threads: int, log: logging.Logger | None = None) -> dict:
    """The device record of this process: :func:`job_environment`, the result of
    :func:`~sedjax.io.runtime.configure_jax` (``configure_jax``, or ``None`` and
    ``configure_jax_error`` when it raised), :func:`jax_devices_record` and ``seconds``.
    """
    log = log or logging.getLogger(__name__)
    t0 = time.perf_counter()
    record = job_environment(device, threads)
    try:
        record["configure_jax"] = configure_jax(device, threads=threads)
    except Exception as exc:  # a broken JAX set-up is worth recording, not hiding
        log.exception("configure_jax(%r) failed", device)
        record["configure_jax"] = None
        record["configure_jax_error"] = _error(exc)
    record.update(jax_devices_record(device, log))
    record["seconds"] = round(time.perf_counter() - t0, 3)
    return record


def write_device_record(path, record: dict) -> None:
    """Write ``record`` as indented JSON with sorted keys (atomically)."""
    with atomic_output(path) as tmp, open(tmp, "w") as fh:
        json.dump(record, fh, indent=2, sort_keys=True)
        fh.write("\n")
