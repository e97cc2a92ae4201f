# Benchmarks of the forward model: jit vs NumPy / op-by-op, grad cost, vmap scaling,
# persistent compilation cache, and the bagpipes peer comparison.
# Per device (cpu | gpu): results/benchmarks/{device}/{name}.json, then summary.json + summary.md.
# A gpu benchmark on a host where JAX sees no GPU writes {"skipped": true, "reason": ...}.

# One rule, one job per (device, name); name in BENCH_NAMES (common.smk):
#   jit    predict_photometry (exact, fast): compile time, jit steady state vs NumPy reference and op-by-op JAX
#   grad   jit(grad(loglik)) vs the jitted forward model; jit(vmap(grad)) vs batched forward per galaxy
#   vmap   per-galaxy time vs batch size: jit(vmap(predict_photometry)) vs a Python loop of jitted calls
#   cache  time to first result (jitted predict + grad) in a fresh process, compilation cache cold vs warm
#   peer   the same model evaluated by bagpipes (model_galaxy.update) vs ours; magnitude differences
# Redo one: snakemake --cores 2 --force results/benchmarks/cpu/jit.json (--forcerun bench: all five).


wildcard_constraints:
    device="cpu|gpu",


rule bench:
    """One forward-model benchmark (jit, grad, vmap, cache or peer) on one device (scripts/bench.py)."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/{name}.json",
    log:
        "logs/benchmarks/{device}/{name}.log",
    wildcard_constraints:
        name="|".join(BENCH_NAMES),
    params:
        name=lambda wildcards: wildcards.name,
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: gpus_for(wildcards.device),
    conda:
        lambda wildcards: env_for(wildcards.device)
    script:
        "../../scripts/bench.py"


rule bench_summary:
    """Headline ratios of one device's benchmarks: summary.json and a Markdown table."""
    input:
        expand("results/benchmarks/{{device}}/{name}.json", name=BENCH_NAMES),
    output:
        json="results/benchmarks/{device}/summary.json",
        md="results/benchmarks/{device}/summary.md",
    log:
        "logs/benchmarks/{device}/summary.log",
    params:
        names=BENCH_NAMES,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_summary.py"
