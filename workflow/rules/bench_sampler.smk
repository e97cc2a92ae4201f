# Sampler benchmark: cold (trace + compile + run) vs warm (same shapes) call of every
# backend on one mock galaxy -> results/benchmarks/{device}/sampler.json.
# Settings: benchmarks.sampler in the config (defaults: config/schema.yaml); backends null
# means nuts + every configured backend (sampler_backends() in common.smk); each backend
# runs with its backend_options, updated by benchmarks.sampler.options.


rule bench_sampler:
    """NUTS cold call (compile + sample) vs warm call; cold/warm time to posterior of every backend."""
    input:
        ssp=ssp_path(),
        catalog="results/mock/catalog.parquet",
    output:
        "results/benchmarks/{device}/sampler.json",
    log:
        "logs/benchmarks/{device}/sampler.log",
    wildcard_constraints:
        device="cpu|gpu",
    params:
        cfg=lambda wildcards: sampler_cfg(),
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        backend_options=lambda wildcards: config["backend_options"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=lambda wildcards: gpus_for(wildcards.device),
    conda:
        lambda wildcards: env_for(wildcards.device)
    script:
        "../../scripts/bench_sampler.py"
