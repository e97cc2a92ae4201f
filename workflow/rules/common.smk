# Helpers shared by the rule files. No rules here.
import os

ENV_CPU = "../../envs/sedjax-cpu.yaml"
ENV_GPU = "../../envs/sedjax-gpu.yaml"
BACKEND_NAMES = ["map", "laplace", "pathfinder", "nuts", "vi", "ns"]


def stellar_ssp_path():
    """The stellar-only SSP grid (rule fetch_ssp)."""
    return f"data/ssp/ssp_{config['ssp']['name']}.h5"


def nebular_log_u_tag(log_u):
    """logU as written in file names: -3 -> "-3.0", -2.75 -> "-2.75" (at most 6 decimals)."""
    tag = f"{float(log_u):.6f}".rstrip("0")
    return f"{tag}0" if tag.endswith(".") else tag


def ssp_path():
    """The SSP grid every downstream step reads (with nebular emission if ssp.nebular.enabled)."""
    nebular = config["ssp"].get("nebular", {})
    if nebular.get("enabled", False):
        tag = nebular_log_u_tag(nebular.get("log_u", -3.0))
        return f"data/ssp/ssp_{config['ssp']['name']}_wNE_logU{tag}.h5"
    return stellar_ssp_path()


def final_outputs():
    """Everything `snakemake` (rule all) builds on the current config."""
    return [
        stellar_ssp_path(),
        ssp_path(),
        "results/mock/catalog.parquet",
        "results/fits/single/summary.parquet",
        *expand("results/benchmarks/{device}/summary.json", device=config["benchmarks"]["devices"]),
        *batch_outputs(),
        *figure_outputs(),
        *report_outputs(),
    ]
