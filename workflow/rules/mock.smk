# The catalogue every fit reads (catalog_path(), common.smk): the mock drawn from the priors
# (catalog.source: mock) or the user's own photometry converted once (catalog.source: file;
# sedjax.catalog.ingest: columns, units, Vega->AB, extinction, masks).


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


rule prepare_catalog:
    """The user's photometry file (catalog.path: CSV, Parquet or FITS) -> the sedjax schema in AB maggies."""
    input:
        config["catalog"]["path"] or [],
    output:
        parquet="results/catalog/catalog.parquet",
        csv="results/catalog/catalog.csv",
    log:
        "logs/prepare_catalog.log",
    params:
        catalog=lambda wildcards: config["catalog"],
        bands=lambda wildcards: config["model"]["bands"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/prepare_catalog.py"
