"""Rule ``device_probe``: record which device a job sees (locally or under Slurm) as JSON.

Never fails for lack of a GPU: with ``device=gpu`` on a machine (or a CI Slurm node with a
fake GRES) without a usable CUDA device it records ``gpu_present: false`` and the reason.
"""

import json
import os
import platform
import socket
import time

from sedjax.io.runtime import configure_jax, setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
device = smk.wildcards.device
log = setup_logging(smk.log[0], "device_probe")
t0 = time.perf_counter()

record = {
    "device": device,
    "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "SLURM_JOB_ID": os.environ.get("SLURM_JOB_ID"),
    "SLURM_JOB_PARTITION": os.environ.get("SLURM_JOB_PARTITION"),
    "SLURM_JOB_GPUS": os.environ.get("SLURM_JOB_GPUS"),
    "SLURM_CPUS_PER_TASK": os.environ.get("SLURM_CPUS_PER_TASK"),
    "hostname": socket.gethostname(),
    "python": platform.python_version(),
    "threads": smk.threads,
}
try:
    record["configure_jax"] = configure_jax(device, threads=smk.threads)
except Exception as exc:  # a broken JAX set-up is worth recording, not hiding
    log.exception("configure_jax(%r) failed", device)
    record["configure_jax"] = None
    record["configure_jax_error"] = f"{type(exc).__name__}: {exc}"

import jax  # noqa: E402  (after configure_jax)

record["jax_version"] = jax.__version__
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
    record["jax_error"] = f"{type(exc).__name__}: {exc}"

try:
    gpus = jax.devices("gpu")
except Exception as exc:  # RuntimeError: no GPU backend / no CUDA device
    gpus = []
    record["gpu_error"] = f"{type(exc).__name__}: {exc}"
record["gpu_present"] = len(gpus) > 0
record["gpu_devices"] = [str(d) for d in gpus]
if device == "gpu" and not gpus:
    record["note"] = "no GPU visible"
    log.warning("device=gpu requested but no GPU visible to JAX (CUDA_VISIBLE_DEVICES=%s)",
                record["CUDA_VISIBLE_DEVICES"])

try:  # one tiny computation on the default device proves the backend works
    import jax.numpy as jnp

    record["check_sum"] = float(jnp.arange(4.0).sum())
except Exception as exc:
    record["check_sum"] = None
    record["check_error"] = f"{type(exc).__name__}: {exc}"

record["seconds"] = round(time.perf_counter() - t0, 3)
os.makedirs(os.path.dirname(smk.output[0]) or ".", exist_ok=True)
with open(smk.output[0], "w") as fh:
    json.dump(record, fh, indent=2, sort_keys=True)
    fh.write("\n")
log.info("device=%s gpu_present=%s CUDA_VISIBLE_DEVICES=%s SLURM_JOB_ID=%s host=%s",
         device, record["gpu_present"], record["CUDA_VISIBLE_DEVICES"], record["SLURM_JOB_ID"],
         record["hostname"])
