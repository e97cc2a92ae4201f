# Benchmarks of the forward model: jit vs NumPy / op-by-op, grad cost, vmap scaling,
# persistent compilation cache, and the bagpipes peer comparison.
# Per device (cpu | gpu): results/benchmarks/{device}/{name}.json, then summary.json + summary.md.
# A gpu benchmark on a host where JAX sees no GPU writes {"skipped": true, "reason": ...}.

BENCH_NAMES = ["jit", "grad", "vmap", "cache", "peer"]


# bench_outputs(): the summaries for every device in config["benchmarks"]["devices"].
# (A lambda, not a def: `snakemake --lint` flags def + rule in one file.)
bench_outputs = lambda: expand(
    "results/benchmarks/{device}/summary.{ext}",
    device=config["benchmarks"]["devices"],
    ext=["json", "md"],
)


wildcard_constraints:
    device="cpu|gpu",


rule bench_jit:
    """predict_photometry (exact, fast): compile time, jit steady state vs NumPy reference and op-by-op JAX."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/jit.json",
    log:
        "logs/benchmarks/{device}/jit.log",
    params:
        name="jit",
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
    script:
        "../../scripts/bench.py"


rule bench_grad:
    """jit(grad(loglik)) vs the jitted forward model; jit(vmap(grad)) vs batched forward per galaxy."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/grad.json",
    log:
        "logs/benchmarks/{device}/grad.log",
    params:
        name="grad",
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
    script:
        "../../scripts/bench.py"


rule bench_vmap:
    """Per-galaxy time vs batch size: jit(vmap(predict_photometry)) vs a Python loop of jitted calls."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/vmap.json",
    log:
        "logs/benchmarks/{device}/vmap.log",
    params:
        name="vmap",
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
    script:
        "../../scripts/bench.py"


rule bench_cache:
    """Time to first result (jitted predict + grad) in a fresh process, compilation cache cold vs warm."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/cache.json",
    log:
        "logs/benchmarks/{device}/cache.log",
    params:
        name="cache",
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
    script:
        "../../scripts/bench.py"


rule bench_peer:
    """The same model evaluated by bagpipes (model_galaxy.update) vs ours; magnitude differences."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/{device}/peer.json",
    log:
        "logs/benchmarks/{device}/peer.log",
    params:
        name="peer",
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
    threads: config["benchmarks"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
        gpu=lambda wildcards: 1 if wildcards.device == "gpu" else 0,
    conda:
        lambda wildcards: ENV_GPU if wildcards.device == "gpu" else ENV_CPU
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
