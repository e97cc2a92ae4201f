# Helpers shared by the rule files, as plain functions of `config`. No rules here (`snakemake
# --lint` flags def + rule in one file), so every helper of the workflow lives in this file.
# (The check is a text search, comments included: never write the rule keyword, a name and a
# colon on one line here.)
#
# `config` has been validated against config/schema.yaml by the Snakefile, which also fills
# every default (nested blocks included): the helpers read config values directly, and no
# default is repeated here.
import os

import yaml

from sedjax.bench import BENCHMARK_NAMES
from sedjax.catalog.ingest import count_galaxies
from sedjax.fitting.chunks import chunk_count, n_fitted

ENV_CPU = "../../envs/sedjax-cpu.yaml"
ENV_GPU = "../../envs/sedjax-gpu.yaml"


def schema_backend_names(schema_path):
    """The inference backends, in order: the schema's `$defs/backend` enum (their one list)."""
    with open(schema_path) as fh:
        return list(yaml.safe_load(fh)["$defs"]["backend"]["enum"])


BACKEND_NAMES = schema_backend_names(os.path.join(workflow.basedir, "config", "schema.yaml"))
# forward-model benchmarks, one job each of rule bench -> results/benchmarks/{device}/{name}.json
BENCH_NAMES = list(BENCHMARK_NAMES)


# ------------------------------------------------------------------ devices
def env_for(device):
    """The conda environment of a job on `device` (cpu | gpu)."""
    return ENV_GPU if device == "gpu" else ENV_CPU


def gpus_for(device):
    """GPUs a job on `device` (cpu | gpu) asks for (the `gpu` resource)."""
    return 1 if device == "gpu" else 0


def bench_devices():
    """Devices the benchmarks run on (benchmarks.devices)."""
    return config["benchmarks"]["devices"]


# ------------------------------------------------------------------ SSP grids
def stellar_ssp_path():
    """The stellar-only SSP grid (rule fetch_ssp)."""
    return f"data/ssp/ssp_{config['ssp']['name']}.h5"


def nebular_log_u_tag(log_u):
    """logU as written in file names: -3 -> "-3.0", -2.75 -> "-2.75" (at most 6 decimals)."""
    tag = f"{float(log_u):.6f}".rstrip("0")
    return f"{tag}0" if tag.endswith(".") else tag


def ssp_path():
    """The SSP grid every downstream step reads (with nebular emission if ssp.nebular.enabled)."""
    nebular = config["ssp"]["nebular"]
    if nebular["enabled"]:
        tag = nebular_log_u_tag(nebular["log_u"])
        return f"data/ssp/ssp_{config['ssp']['name']}_wNE_logU{tag}.h5"
    return stellar_ssp_path()


# ------------------------------------------------------------------ catalogue
def catalog_is_file():
    """True when the fits read the user's file (catalog.source: file), False for the mock."""
    return config["catalog"]["source"] == "file"


def catalog_path():
    """The one catalogue every fit and figure reads, in the sedjax schema (AB maggies): the mock
    (rule mock_catalog) or the converted copy of the user's file (rule prepare_catalog)."""
    return "results/catalog/catalog.parquet" if catalog_is_file() else "results/mock/catalog.parquet"


def has_truths():
    """Whether the catalogue holds true parameters (mocks do): recovery and calibration need them."""
    return not catalog_is_file()


_N_FILE_GALAXIES = []


def catalog_n_galaxies():
    """Galaxies in the catalogue: mock.n_galaxies, or those of the user's file that are usable
    (read once at parse time: a wrong column, unit or band stops the run here)."""
    if not catalog_is_file():
        return config["mock"]["n_galaxies"]
    if not _N_FILE_GALAXIES:
        _N_FILE_GALAXIES.append(count_galaxies(config["catalog"], config["model"]["bands"]))
    return _N_FILE_GALAXIES[0]


def single_ids():
    """fit_single.ids, checked against the catalogue's size (ids are rows 0..n-1 of the catalogue)."""
    ids, n = config["fit_single"]["ids"], catalog_n_galaxies()
    bad = [i for i in ids if i >= n]
    if bad:
        raise ValueError(f"fit_single.ids {bad} are not in the catalogue: it has {n} galaxies (ids 0..{n - 1}); "
                         "for a file catalogue the id is the galaxy's row in results/catalog/catalog.parquet")
    return ids


def mock_redshift():
    """mock.redshift for the model builders when the fits read the mock (None for a file:
    the scripts take the range from the catalogue's redshifts)."""
    return None if catalog_is_file() else config["mock"]["redshift"]


# ------------------------------------------------------------------ batch fits
def batch_backends():
    """Backends with catalogue (batch) fits: every configured backend."""
    return config["backends"]


def batch_n_galaxies():
    """Galaxies fitted by the batch: the first batch.catalogue_size of the catalogue (never more)."""
    return n_fitted(config["batch"]["catalogue_size"], catalog_n_galaxies())


def batch_n_chunks():
    """Number of fit_batch jobs (chunk files) per backend (sedjax.fitting.chunks)."""
    return chunk_count(batch_n_galaxies(), config["batch"]["chunk_size"])


def batch_options(backend):
    """Options of `backend` in the batch: batch.backend_options field by field over backend_options."""
    return {
        **config["backend_options"].get(backend, {}),
        **config["batch"]["backend_options"].get(backend, {}),
    }


def batch_chunk_files(backend):
    """Every chunk file of one backend (the inputs of merge_batch)."""
    return expand("results/fits/batch/{backend}/chunk_{i}.h5", backend=backend, i=range(batch_n_chunks()))


def batch_outputs():
    """Everything the batch rules build for rule all (bench_batch is built on request; the
    calibration needs truths: mock catalogues only)."""
    calibration = ["results/calibration/coverage.parquet", "results/calibration/ranks.parquet"]
    return [
        *expand("results/fits/batch/{backend}.parquet", backend=batch_backends()),
        *expand("results/fits/batch/{backend}_throughput.json", backend=batch_backends()),
        *(calibration if has_truths() else []),
    ]


# ------------------------------------------------------------------ sampler benchmark
def sampler_backends():
    """Backends of bench_sampler: benchmarks.sampler.backends, or (null) nuts + every configured backend."""
    chosen = config["benchmarks"]["sampler"]["backends"]
    return chosen or ["nuts"] + [b for b in config["backends"] if b != "nuts"]


def sampler_cfg():
    """benchmarks.sampler with its backend list resolved (sampler_backends())."""
    return {**config["benchmarks"]["sampler"], "backends": sampler_backends()}


# ------------------------------------------------------------------ posterior benchmark
def posterior_cfg():
    """benchmarks.posterior with its backend list resolved: its own, or (null) the reference + every
    configured backend."""
    cfg = config["benchmarks"]["posterior"]
    ref = cfg["reference"]
    return {**cfg, "backends": cfg["backends"] or [ref] + [b for b in config["backends"] if b != ref]}


def posterior_outputs():
    """bench_posterior's record and figures, for rule all and the report when benchmarks.posterior.enabled
    (otherwise the rule runs on request only)."""
    if not config["benchmarks"]["posterior"]["enabled"]:
        return []
    return ["results/benchmarks/cpu/posterior.json", "results/figures/posterior_time.png",
            "results/figures/posterior_overlay.png"]


# ------------------------------------------------------------------ figures and report
def free_param_names():
    """Free parameters of the model config (a prior, not a number or {fixed: x})."""
    return [k for k, v in config["model"]["params"].items() if isinstance(v, dict) and "fixed" not in v]


def figure_outputs():
    """Every figure (PNG) that the all and report rules build for the current config. Benchmark
    figures when benchmarks.devices is not empty (the posterior benchmark's when it is enabled); the
    gradient field, recovery and calibration figures when the catalogue has truths (a mock); the
    real-data figures for a file catalogue."""
    ids = single_ids()
    bench = ["results/figures/jit_speedup.png", "results/figures/vmap_throughput.png",
             "results/figures/sampler_compile.png"]
    truths = [
        "results/figures/grad_field.png",
        *expand("results/figures/recovery_{backend}.png", backend=batch_backends()),
        "results/figures/calibration.png",
        "results/figures/backend_comparison.png",
    ]
    real = expand("results/figures/catalogue_{backend}.png", backend=batch_backends())
    return [
        *(bench if bench_devices() else []),
        *[f for f in posterior_outputs() if f.endswith(".png")],
        *expand("results/figures/corner_{backend}_{id}.png", backend=config["backends"], id=ids),
        *expand("results/figures/corner_all_{id}.png", id=ids),
        *expand("results/figures/sed_{id}.png", id=ids),
        *(truths if has_truths() else real),
    ]


def report_outputs():
    """What rule all needs of the summary (rule report)."""
    return ["results/summary.md", "results/summary.html"]


def report_summary():
    """The run's facts named in the summary's preamble (sedjax.plotting.report.summary_preamble)."""
    return {
        "ssp": os.path.basename(ssp_path()).removeprefix("ssp_").removesuffix(".h5"),
        "nebular": config["ssp"]["nebular"]["enabled"],
        "sfh": config["model"]["sfh"],
        "dust_law": config["model"]["dust_law"],
        "bands": config["model"]["bands"],
        "n_galaxies": catalog_n_galaxies(),
        "catalog": (f"catalogue `{config['catalog']['path']}` ({catalog_n_galaxies()} galaxies)" if catalog_is_file()
                    else f"mock catalogue of {config['mock']['n_galaxies']} galaxies"),
        "backends": config["backends"],
        "mode": config["fit"]["mode"],
    }


def final_outputs():
    """Everything `snakemake` (rule all) builds on the current config."""
    return [
        stellar_ssp_path(),
        ssp_path(),
        catalog_path(),
        "results/fits/single/summary.parquet",
        *expand("results/benchmarks/{device}/summary.json", device=bench_devices()),
        *batch_outputs(),
        *figure_outputs(),
        *report_outputs(),
    ]
