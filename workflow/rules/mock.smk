rule mock_catalog:
    """Draw galaxies from the priors, predict photometry with the shared model, add noise."""
    input:
        ssp=ssp_path(),
    output:
        parquet="results/mock/catalog.parquet",
        csv="results/mock/catalog.csv",
    log:
        "logs/mock_catalog.log",
    params:
        mock=lambda wildcards: config["mock"],
        model=lambda wildcards: config["model"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=30,
    conda:
        ENV_CPU
    script:
        "../../scripts/mock_catalog.py"
