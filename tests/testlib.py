"""Shared test helpers (not fixtures): default bands and spec, benchmark defaults, a PNG check, a workflow copy.

Imported as ``from testlib import ...``: pytest puts tests/ on sys.path (rootdir conftest).
Kept out of conftest.py because tests/bench and tests/workflow have conftest.py files of
their own, and ``from conftest import`` would get whichever was imported last.
"""

DEFAULT_BANDS = ["sdss_u", "sdss_g", "sdss_r", "sdss_i", "sdss_z"]

# small options per backend: tests of plumbing (batch == single, compile counts), not of convergence
SMALL_OPTS = {
    "map": {"n_starts": 2, "n_steps": 30},
    "laplace": {"n_starts": 2, "n_steps": 30, "n_samples": 100},
    "pathfinder": {"maxiter": 10, "n_samples": 100},
    "nuts": {"n_chains": 2, "n_warmup": 5, "n_samples": 5},
    "vi": {"n_steps": 100, "n_samples": 100},
    "ns": {"n_live": 50, "num_delete": 10, "max_steps": 20, "n_samples": 100},
    "is": {"n_draws": 200, "n_samples": 50, "min_ess": 50, "n_starts": 1, "n_library_starts": 2, "lm_steps": 10},
    "auto": {"n_draws": 200, "n_adapt": 1, "n_samples": 10, "min_ess": 60, "n_starts": 1, "n_library_starts": 2, "lm_steps": 10,
             "n_chains": 2, "n_warmup": 5, "hmc_draws_per_chain": 5},
}


def default_spec(**overrides):
    from sedjax import Fixed, Parameters, Uniform

    kw = dict(
        sfh_dpl_log_peak_sfr=Uniform(-1, 2.5),
        sfh_dpl_tau_gyr=Uniform(0.1, 10),
        sfh_dpl_alpha=Uniform(1, 10),
        sfh_dpl_beta=Uniform(1, 10),
        met_logzsol=Uniform(-2, 0.2),
        dust_tau_bc=Uniform(0, 2),
        dust_tau_diff=Uniform(0, 1.5),
        dust_slope=Fixed(-0.7),
        redshift=Fixed(0.1),
    )
    kw.update(overrides)
    return Parameters(mean_sfh_type="dpl", **kw)


def posterior_bench_defaults() -> dict:
    """benchmarks.posterior's defaults (params, truth, bagpipes, ...) as config/schema.yaml states them."""
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "schema.yaml").read_text())
    block = schema["properties"]["benchmarks"]["properties"]["posterior"]["properties"]
    return {k: v.get("default") for k, v in block.items()}


def assert_png(path):
    """A PNG that exists, is not tiny and is not a single flat colour."""
    import numpy as np
    from PIL import Image

    assert path.exists(), path
    assert path.stat().st_size > 5000, f"{path} is only {path.stat().st_size} bytes"
    with Image.open(path) as im:
        assert im.format == "PNG"
        arr = np.asarray(im.convert("RGB"))
    assert arr.shape[0] > 200 and arr.shape[1] > 200
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 10


def session_cache_root() -> str:
    """The test session's persistent compilation cache root: ``$SEDJAX_TEST_JAX_CACHE``, else
    the checkout's git-ignored ``.jax_cache/``."""
    import os

    return os.path.abspath(os.environ.get("SEDJAX_TEST_JAX_CACHE")
                           or os.path.join(os.path.dirname(__file__), "..", ".jax_cache"))


def share_job_cache(dest) -> None:
    """Point the workflow copy ``dest``'s job cache (``.jax_cache/``, where every job's
    :func:`sedjax.io.runtime.configure_jax` keeps compiled programs) at the test session's, so
    the tiny workflows of different tests load the programs another one compiled."""
    import os
    from pathlib import Path

    shared = Path(session_cache_root()) / "jobs"
    shared.mkdir(parents=True, exist_ok=True)
    os.symlink(shared, Path(dest) / ".jax_cache")


def workflow_copy(repo, dest, config: dict, ssp_dir=None, data_dirs=()):
    """A runnable copy of the workflow at ``dest`` (Snakefile, workflow/, config/, scripts/,
    profiles/, envs/) with ``config`` as its config/config.yaml; ``data/ssp`` a symlink to
    ``ssp_dir`` (the session's grid), ``data/<d>`` copied for each of ``data_dirs`` and the jobs'
    compilation cache shared with the test session's (:func:`share_job_cache`)."""
    import os
    import shutil
    from pathlib import Path

    import yaml

    repo, dest = Path(repo), Path(dest)
    dest.mkdir()
    shutil.copy2(repo / "Snakefile", dest / "Snakefile")
    # envs/: the rules' conda: files (Snakemake records them in the job metadata)
    for d in ("workflow", "config", "scripts", "profiles", "envs"):
        if (repo / d).exists():
            shutil.copytree(repo / d, dest / d, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "data").mkdir()
    for d in data_dirs:
        shutil.copytree(repo / "data" / d, dest / "data" / d)
    if ssp_dir is not None:
        os.symlink(Path(ssp_dir).resolve(), dest / "data" / "ssp")
    (dest / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    share_job_cache(dest)
    return dest
