# Batched MAP benchmark (on request, not in rule all):
#   snakemake --cores 2 results/benchmarks/cpu/map.json
# Levenberg-Marquardt MAP over benchmarks.map.n_galaxies prior-drawn mock galaxies in one
# vmapped program (galaxies per minute, one XLA worker) and the fraction of the first
# n_reference whose MAP log posterior is within 0.1 of the best of reference_starts L-BFGS
# starts, for each LM setting in benchmarks.map.settings (MAPOpts fields over
# backend_options.map; defaults: config/schema.yaml). The L-BFGS runs go one at a time.


rule bench_map:
    """Batched LM MAP: galaxies per minute and accuracy against multi-start L-BFGS (CPU, one worker)."""
    input:
        ssp=ssp_path(),
    output:
        "results/benchmarks/cpu/map.json",
    log:
        "logs/benchmarks/cpu/map.log",
    params:
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        cfg=lambda wildcards: config["benchmarks"]["map"],
        options=lambda wildcards: config["backend_options"].get("map", {}),
    threads: 1  # one XLA worker, as the fit jobs
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_map.py"


# Per-galaxy redshift cost (on request; issue 17's goal: varying / fixed <= 1.5):
#   snakemake --cores 2 results/benchmarks/cpu/redshift_tables.json --configfile config/real_example.yaml
# The first batch.catalogue_size galaxies of the catalogue fitted with MAP (batch options) in one
# chunk, at the model's fixed redshift and at each galaxy's own (tables from the redshift grid).
rule bench_redshift:
    """Batched MAP per galaxy at the catalogue's redshifts vs at one fixed redshift (CPU, one worker)."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
    output:
        "results/benchmarks/cpu/redshift_tables.json",
    log:
        "logs/benchmarks/cpu/redshift_tables.log",
    params:
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        options=lambda wildcards: batch_options("map"),
        n_galaxies=lambda wildcards: batch_n_galaxies(),
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_redshift.py"
