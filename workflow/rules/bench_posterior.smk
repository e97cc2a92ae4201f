# Time to a posterior (issue 15): every backend vs bagpipes + nautilus on one galaxy, same job.
#   snakemake --cores 2 results/benchmarks/cpu/posterior.json     (on request; figures:
#   results/figures/posterior_time.png, posterior_overlay.png; in rule all and the report when
#   benchmarks.posterior.enabled, as in config/paper.yaml)
# The galaxy: benchmarks.posterior.params at .truth (exact photometry, Gaussian noise of frac_err);
# the backends: benchmarks.posterior.backends, or (null) the reference + every configured backend,
# each with backend_options updated by benchmarks.posterior.options (posterior_cfg() in common.smk);
# bagpipes with the same priors (sedjax.bench.bagpipes_fit). One XLA worker, as the fit jobs.


rule bench_posterior:
    """Cold/warm time, evaluations, ESS per second and R-hat per backend, and bagpipes + nautilus, on one galaxy."""
    input:
        ssp=ssp_path(),
    output:
        json="results/benchmarks/cpu/posterior.json",
        samples="results/benchmarks/cpu/posterior_samples.h5",
    log:
        "logs/benchmarks/cpu/posterior.log",
    params:
        cfg=lambda wildcards: posterior_cfg(),
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        backend_options=lambda wildcards: config["backend_options"],
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_posterior.py"



# Compile once, fit many (issue 30): the user's view, on request:
#   snakemake --cores 2 results/benchmarks/cpu/fit_loop.json
# benchmarks.fit_loop.n_galaxies galaxies of bench_posterior's model (galaxy 0 at its truth, the
# others prior draws) fitted one after another through the public fit() per backend in one process:
# first call, calls 2..N, XLA compiles; the first fit() of a fresh process with a cold and a warm
# persistent cache; bagpipes + nautilus on galaxy 0 in the same job (sedjax.bench.fit_loop).
rule bench_fit_loop:
    """First fit() and calls 2..N per backend in one process, a fresh process cold/warm, and bagpipes + nautilus."""
    input:
        ssp=ssp_path(),
    output:
        json="results/benchmarks/cpu/fit_loop.json",
    log:
        "logs/benchmarks/cpu/fit_loop.log",
    params:
        bench=lambda wildcards: config["benchmarks"],
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        backend_options=lambda wildcards: config["backend_options"],
    threads: 1  # one XLA worker, as the fit jobs
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_fit_loop.py"

# The auto backend's HMC stage, whitened NUTS vs ChEES-HMC (issue 15; on request):
#   snakemake --cores 2 results/benchmarks/cpu/hmc.json
# Up to benchmarks.hmc.n_galaxies galaxies that auto's IS stage rejects among the first pool_size
# of the catalogue (population: is_rejected; about 3 % of the default mock, so give it 1 000:
#   snakemake --cores 2 --configfile config/catalogue_1000.yaml -- results/benchmarks/cpu/hmc.json
# ), or the first n_galaxies (population: first), every one sent down the HMC path, once
# per entry of benchmarks.hmc.kernels (auto options over batch_options("auto")): converged
# galaxies per second, gradients per galaxy and per ESS, coverage of the truths.
rule bench_hmc:
    """Whitened NUTS vs ChEES as auto's HMC stage: converged galaxies per second at equal calibration."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
    output:
        "results/benchmarks/cpu/hmc.json",
    log:
        "logs/benchmarks/cpu/hmc.log",
    params:
        model=lambda wildcards: config["model"],
        fit=lambda wildcards: config["fit"],
        cfg=lambda wildcards: config["benchmarks"]["hmc"],
        options=lambda wildcards: batch_options("auto"),
        mock_redshift=lambda wildcards: mock_redshift(),
    threads: 1  # one XLA worker, as the fit jobs
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=0,
    conda:
        ENV_CPU
    script:
        "../../scripts/bench_hmc.py"
