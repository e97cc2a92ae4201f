# Helpers shared by the rule files. No rules here.
import os

ENV_CPU = "../../envs/sedjax-cpu.yaml"
ENV_GPU = "../../envs/sedjax-gpu.yaml"
BACKEND_NAMES = ["map", "laplace", "pathfinder", "nuts", "vi", "ns"]


def ssp_path():
    """The SSP grid every downstream rule reads."""
    return f"data/ssp/ssp_{config['ssp']['name']}.h5"


def final_outputs():
    """Everything `snakemake` (rule all) builds on the current config."""
    return [
        ssp_path(),
        "results/mock/catalog.parquet",
        "results/fits/single/summary.parquet",
        *expand("results/benchmarks/{device}/summary.json", device=config["benchmarks"]["devices"]),
    ]
