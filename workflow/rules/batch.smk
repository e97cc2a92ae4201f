# Catalogue fits, vmapped over galaxies (sedjax.fitting.batch.fit_batch), their merge, the
# coverage / SBC-rank calibration and the batched-vs-looped benchmark.
#
#   results/fits/batch/{backend}/chunk_{i}.h5     one chunk of galaxies, one backend
#   results/fits/batch/{backend}.parquet          one row per galaxy (+ truths)
#   results/fits/batch/{backend}_throughput.json  galaxies/s (compile excluded), compile s
#   results/calibration/{coverage,ranks}.parquet  coverage and rank statistics
#   results/benchmarks/cpu/batch_{backend}.json   batched vs looped fit()
#
# Config (config["batch"]): catalogue_size (first N catalogue galaxies: catalog_path()), chunk_size (galaxies
# per compiled call and per job; the number of chunks is known from the config:
# sedjax.fitting.chunks), bench_galaxies, backend_options (per backend, field by field over
# backend_options), device (cpu | gpu: the conda env and the local gpu resource).
# Helpers (batch_n_galaxies, batch_n_chunks, batch_options, ...): common.smk.
#
# GPU: fit_batch declares gpu=0 for local CPU runs (device: cpu); the slurm-gpu profile's
# set-resources (profiles/slurm-gpu/config.yaml) sends fit_batch to the GPU partition with
# gpu: 1 and 8 threads, and scripts/fit_batch.py then runs JAX on the GPU (falling back
# to the CPU, with a warning, when JAX sees none). For --use-conda on GPU nodes set
# batch.device: gpu so that the job gets the CUDA environment.
#
# bench_batch (batched vs looped fit, ~9 min on 2 cores) is built on request:
#   snakemake --cores 2 results/benchmarks/cpu/batch_nuts.json


rule fit_batch:
    """One chunk of the catalogue (mock or the user's file), one backend: jit(vmap(backend)) over its galaxies."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
    output:
        "results/fits/batch/{backend}/chunk_{i}.h5",
    log:
        "logs/fit_batch/{backend}/chunk_{i}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
        i=r"\d+",
    params:
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: mock_redshift(),
        fit=lambda wildcards: config["fit"],
        options=lambda wildcards: batch_options(wildcards.backend),
        catalogue_size=lambda wildcards: batch_n_galaxies(),
        chunk_size=lambda wildcards: config["batch"]["chunk_size"],
    threads: 1  # CPU: one XLA worker (batched LAPACK deadlock in jaxlib 0.10); chunks run side by side
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=lambda wildcards: gpus_for(config["batch"]["device"]),
    conda:
        env_for(config["batch"]["device"])
    script:
        "../../scripts/fit_batch.py"


rule merge_batch:
    """All chunks of one backend -> one row per galaxy (percentiles, truth ranks, diagnostics, truths)."""
    input:
        chunks=lambda wildcards: batch_chunk_files(wildcards.backend),
        catalog=catalog_path(),
    output:
        table="results/fits/batch/{backend}.parquet",
        throughput="results/fits/batch/{backend}_throughput.json",
    log:
        "logs/merge_batch/{backend}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/merge_batch.py"


# calibration needs truths: scheduled for mock catalogues only (batch_outputs, common.smk)
rule calibration:
    """Coverage of the 68% / 95% intervals and SBC rank uniformity per backend and parameter."""
    input:
        tables=expand("results/fits/batch/{backend}.parquet", backend=batch_backends()),
    output:
        coverage="results/calibration/coverage.parquet",
        ranks="results/calibration/ranks.parquet",
    log:
        "logs/calibration.log",
    params:
        backends=batch_backends(),
        n_bins=config["batch"]["rank_bins"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/calibration.py"


rule bench_batch:
    """Throughput of the batched fit vs a loop of per-galaxy fit() on the same galaxies (CPU)."""
    input:
        ssp=ssp_path(),
        catalog="results/mock/catalog.parquet",
    output:
        "results/benchmarks/cpu/batch_{backend}.json",
    log:
        "logs/benchmarks/cpu/batch_{backend}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
    params:
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: config["mock"]["redshift"],
        fit=lambda wildcards: config["fit"],
        options=lambda wildcards: batch_options(wildcards.backend),
        n_galaxies=lambda wildcards: config["batch"]["bench_galaxies"],
    threads: 1  # one XLA worker, as fit_batch
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_batch.py"
