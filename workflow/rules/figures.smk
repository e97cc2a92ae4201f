# Figures: one rule (and one script) per figure; inputs are result files only, so
#   snakemake --forcerun plot_jit_speedup results/figures/jit_speedup.png
# redraws just that figure. Every PNG is a report() output (snakemake --report); the paper
# figures also get a PDF beside them (a `pdf` output); per-backend corner plots are PNG only.
# Settings: the `figures:` config block (defaults: config/schema.yaml). Helpers
# (figure_outputs, free_param_names, bench_devices, batch_backends): common.smk.


rule grad_field:
    """Log-likelihood and jit(vmap(grad)) on a 2-D slice (default dust_tau_diff x met_logzsol) of one mock galaxy."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
    output:
        "results/gradfield/grid.npz",
    log:
        "logs/figures/grad_field.log",
    params:
        cfg=lambda wildcards: config["figures"]["grad_field"],
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: mock_redshift(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/grad_field.py"


rule plot_jit_speedup:
    """NumPy reference vs JAX op-by-op vs JAX jit (exact, fast), bagpipes as a reference bar."""
    input:
        jit=expand("results/benchmarks/{device}/jit.json", device=bench_devices()),
        peer=expand("results/benchmarks/{device}/peer.json", device=bench_devices()),
    output:
        png=report(
            "results/figures/jit_speedup.png",
            caption="../report/jit_speedup.rst",
            category="Benchmarks",
            subcategory="Forward model",
        ),
        pdf="results/figures/jit_speedup.pdf",
    log:
        "logs/figures/jit_speedup.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_jit_speedup.py"


rule plot_vmap_throughput:
    """Per-galaxy time vs batch size, jit(vmap) vs a Python loop, one curve per device."""
    input:
        vmap=expand("results/benchmarks/{device}/vmap.json", device=bench_devices()),
    output:
        png=report(
            "results/figures/vmap_throughput.png",
            caption="../report/vmap_throughput.rst",
            category="Benchmarks",
            subcategory="Forward model",
        ),
        pdf="results/figures/vmap_throughput.pdf",
    log:
        "logs/figures/vmap_throughput.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_vmap_throughput.py"


rule plot_sampler_compile:
    """NUTS cold (compile + sample) vs warm call; cold vs warm time to posterior per backend."""
    input:
        sampler=expand("results/benchmarks/{device}/sampler.json", device=bench_devices()),
    output:
        png=report(
            "results/figures/sampler_compile.png",
            caption="../report/sampler_compile.rst",
            category="Benchmarks",
            subcategory="Inference",
        ),
        pdf="results/figures/sampler_compile.pdf",
    log:
        "logs/figures/sampler_compile.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_sampler_compile.py"


rule plot_posterior_time:
    """Time to a posterior on one galaxy: cold/warm per backend against bagpipes + nautilus (bench_posterior)."""
    input:
        record="results/benchmarks/cpu/posterior.json",
    output:
        png=report(
            "results/figures/posterior_time.png",
            caption="../report/posterior_time.rst",
            category="Benchmarks",
            subcategory="Inference",
        ),
        pdf="results/figures/posterior_time.pdf",
    log:
        "logs/figures/posterior_time.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_posterior_time.py"


rule plot_posterior_overlay:
    """The reference backend's 1-D marginals over bagpipes + nautilus' on the same galaxy (bench_posterior)."""
    input:
        samples="results/benchmarks/cpu/posterior_samples.h5",
    output:
        png=report(
            "results/figures/posterior_overlay.png",
            caption="../report/posterior_overlay.rst",
            category="Benchmarks",
            subcategory="Inference",
        ),
        pdf="results/figures/posterior_overlay.pdf",
    log:
        "logs/figures/posterior_overlay.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_posterior_overlay.py"


rule plot_grad_field:
    """Filled contours of the log-likelihood slice, gradient arrows, truth marked."""
    input:
        grid="results/gradfield/grid.npz",
    output:
        png=report(
            "results/figures/grad_field.png",
            caption="../report/grad_field.rst",
            category="Benchmarks",
            subcategory="Gradients",
        ),
        pdf="results/figures/grad_field.pdf",
    log:
        "logs/figures/grad_field_plot.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_grad_field.py"


rule plot_corner:
    """Corner plot of one backend's posterior of one galaxy, truths marked."""
    input:
        fit="results/fits/single/{backend}/{id}.h5",
    output:
        png=report(
            "results/figures/corner_{backend}_{id}.png",
            caption="../report/corner.rst",
            category="Fits",
            subcategory="Corner plots per backend",
            labels={"backend": "{backend}", "galaxy": "{id}"},
        ),
    log:
        "logs/figures/corner_{backend}_{id}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
        id=r"\d+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_corner.py"


rule plot_corner_all:
    """Every backend's posterior of one galaxy overlaid in one corner plot."""
    input:
        fits=expand("results/fits/single/{backend}/{{id}}.h5", backend=config["backends"]),
    output:
        png=report(
            "results/figures/corner_all_{id}.png",
            caption="../report/corner_all.rst",
            category="Fits",
            subcategory="Posteriors of every backend",
            labels={"galaxy": "{id}"},
        ),
        pdf="results/figures/corner_all_{id}.pdf",
    log:
        "logs/figures/corner_all_{id}.log",
    wildcard_constraints:
        id=r"\d+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_corner_all.py"


rule plot_sed:
    """Observed photometry, posterior-predictive photometry and posterior spectra (16-84%) per backend."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
        fits=expand("results/fits/single/{backend}/{{id}}.h5", backend=config["backends"]),
    output:
        png=report(
            "results/figures/sed_{id}.png",
            caption="../report/sed.rst",
            category="Fits",
            subcategory="SEDs",
            labels={"galaxy": "{id}"},
        ),
        pdf="results/figures/sed_{id}.pdf",
    log:
        "logs/figures/sed_{id}.log",
    wildcard_constraints:
        id=r"\d+",
    params:
        cfg=lambda wildcards: config["figures"]["sed"],
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: mock_redshift(),
        mode=lambda wildcards: config["fit"]["mode"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_sed.py"


rule plot_recovery:
    """Truth vs posterior median (16-84%) of every parameter and derived quantity across the catalogue."""
    input:
        batch="results/fits/batch/{backend}.parquet",
    output:
        png=report(
            "results/figures/recovery_{backend}.png",
            caption="../report/recovery.rst",
            category="Calibration",
            subcategory="Recovery per backend",
            labels={"backend": "{backend}"},
        ),
        pdf="results/figures/recovery_{backend}.pdf",
    log:
        "logs/figures/recovery_{backend}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_recovery.py"


rule plot_calibration:
    """Coverage of the 68%/95% intervals and rank histograms per backend and parameter."""
    input:
        coverage="results/calibration/coverage.parquet",
        ranks="results/calibration/ranks.parquet",
    output:
        png=report(
            "results/figures/calibration.png",
            caption="../report/calibration.rst",
            category="Calibration",
            subcategory="Coverage and ranks",
        ),
        pdf="results/figures/calibration.pdf",
    log:
        "logs/figures/calibration.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_calibration.py"


rule plot_backend_comparison:
    """Time per galaxy vs accuracy (mean |z|, coverage, normalised error) per backend."""
    input:
        batch=expand("results/fits/batch/{backend}.parquet", backend=batch_backends()),
        throughput=expand("results/fits/batch/{backend}_throughput.json", backend=batch_backends()),
        coverage="results/calibration/coverage.parquet",
    output:
        png=report(
            "results/figures/backend_comparison.png",
            caption="../report/backend_comparison.rst",
            category="Calibration",
            subcategory="Coverage and ranks",
        ),
        pdf="results/figures/backend_comparison.pdf",
    log:
        "logs/figures/backend_comparison.log",
    params:
        free_params=lambda wildcards: free_param_names(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_backend_comparison.py"


rule catalogue_ppc:
    """Posterior-predictive photometry of every batch-fitted galaxy and its residual per band (file catalogues)."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
        chunks=lambda wildcards: batch_chunk_files(wildcards.backend),
    output:
        "results/catalog/ppc_{backend}.parquet",
    log:
        "logs/figures/catalogue_ppc_{backend}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
    params:
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: mock_redshift(),
        fit=lambda wildcards: config["fit"],
        n_draws=lambda wildcards: config["figures"]["sed"]["n_draws"],
        seed=lambda wildcards: config["figures"]["sed"]["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/catalogue_ppc.py"


rule plot_catalogue:
    """Stellar mass vs SFR and per-band residual distributions across the catalogue (one backend)."""
    input:
        batch="results/fits/batch/{backend}.parquet",
        ppc="results/catalog/ppc_{backend}.parquet",
    output:
        png=report(
            "results/figures/catalogue_{backend}.png",
            caption="../report/catalogue.rst",
            category="Real data",
            subcategory="Catalogue",
            labels={"backend": "{backend}"},
        ),
        pdf="results/figures/catalogue_{backend}.pdf",
    log:
        "logs/figures/catalogue_{backend}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/plot_catalogue.py"
