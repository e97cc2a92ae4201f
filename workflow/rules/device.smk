# Device probe: which CPU/GPU a job actually sees under the current executor.
# Not part of rule all; build on demand, e.g.
#   snakemake --cores 1 results/device/cpu.json
#   snakemake --profile slurm-gpu results/device/gpu.json   # on the GPU partition


rule device_probe:
    """Record the device request, CUDA_VISIBLE_DEVICES, Slurm job id, host and JAX devices as JSON."""
    output:
        "results/device/{device}.json",
    log:
        "logs/device_probe/{device}.log",
    wildcard_constraints:
        device="cpu|gpu",
    threads: 1
    resources:
        # one GPU for the gpu variant only (local runs: `resources: gpu: 1` serialises them)
        gpu=lambda wildcards: gpus_for(wildcards.device),
        mem_mb=2000,
        runtime=10,
    conda:
        lambda wildcards: env_for(wildcards.device)
    script:
        "../../scripts/device_probe.py"
