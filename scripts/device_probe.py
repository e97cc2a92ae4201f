"""Rule ``device_probe``: record which device a job sees (locally or under Slurm) as JSON.

The record (:func:`sedjax.io.device.probe_device`) never fails for lack of a GPU: with
``device=gpu`` and no usable CUDA device it says ``gpu_present: false`` and why.
"""

from sedjax.io.device import probe_device, write_device_record
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
device = smk.wildcards.device
log = setup_logging(smk.log[0], "device_probe")
record = probe_device(device, smk.threads, log=log)
write_device_record(smk.output[0], record)
log.info("device=%s gpu_present=%s CUDA_VISIBLE_DEVICES=%s SLURM_JOB_ID=%s host=%s",
         device, record["gpu_present"], record["CUDA_VISIBLE_DEVICES"], record["SLURM_JOB_ID"],
         record["hostname"])
