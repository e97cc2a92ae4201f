# Sampler benchmark: cold (trace + compile + run) vs warm (same shapes) call of every
# backend on one mock galaxy -> results/benchmarks/{device}/sampler.json.
# Settings: benchmarks.sampler in the config (defaults below apply while it is absent);
# each backend runs with its backend_options, updated by benchmarks.sampler.options.

SAMPLER_DEFAULTS = {
    "galaxy_id": 0,
    "backends": None,  # None: nuts + every configured backend
    "warm_repeats": 1,
    "seed": 0,
    "options": {"nuts": {"n_chains": 2, "n_warmup": 200, "n_samples": 200}},
}

# benchmarks.sampler over the defaults; options merged per backend; backends None -> nuts
# + every configured backend. (A lambda, not a def: `snakemake --lint` flags def + rule.)
sampler_cfg = lambda: (
    lambda c: {
        **SAMPLER_DEFAULTS,
        **c,
        "backends": c.get("backends") or ["nuts"] + [b for b in config["backends"] if b != "nuts"],
        "options": {**SAMPLER_DEFAULTS["options"], **(c.get("options") or {})},
    }
)(config["benchmarks"].get("sampler") or {})


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
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
    script:
        "../../scripts/bench_sampler.py"
