rule fit_single:
    """Fit one catalogue galaxy (mock or the user's file) with one backend (MAP, Laplace, Pathfinder, NUTS, VI, NS)."""
    input:
        ssp=ssp_path(),
        catalog=catalog_path(),
    output:
        "results/fits/single/{backend}/{id}.h5",
    log:
        "logs/fit_single/{backend}/{id}.log",
    wildcard_constraints:
        backend="|".join(BACKEND_NAMES),
        id=r"\d+",
    params:
        model=lambda wildcards: config["model"],
        mock_redshift=lambda wildcards: mock_redshift(),
        fit=lambda wildcards: config["fit"],
        options=lambda wildcards: config["backend_options"].get(wildcards.backend, {}),
    threads: 1  # one XLA worker (batched LAPACK deadlock in jaxlib 0.10); fits run side by side
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        ENV_CPU
    script:
        "../../scripts/fit_single.py"


rule fit_summary:
    """Summary table of the single-galaxy fits (median, 16th, 84th, diagnostics, times, truths)."""
    input:
        fits=expand(
            "results/fits/single/{backend}/{id}.h5",
            backend=config["backends"],
            id=config["fit_single"]["ids"],
        ),
    output:
        "results/fits/single/summary.parquet",
    log:
        "logs/fit_summary.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/fit_summary.py"
