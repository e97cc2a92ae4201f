"""Per-galaxy fit cost at the galaxies' own redshifts vs at the model's fixed redshift.

A catalogue of real galaxies has one spectroscopic z per galaxy; the fast-mode tables then
come from the model's redshift grid (:mod:`sedjax.model.table_grid`, interpolated inside
the compiled chunk) instead of the model's one set of tables. :func:`redshift_cost` fits
the same photometry with :func:`sedjax.fitting.batch.fit_batch` twice, in one process: once
with every galaxy at the model's fixed redshift (the model's own tables) and once at each
galaxy's own z, and reports the per-galaxy run time of each (compile excluded: each
program is compiled once per catalogue). Goal (issue 17): varying / fixed ≤ 1.5.

Run by rule ``bench_redshift`` (on request):
``snakemake --cores 2 results/benchmarks/cpu/redshift_tables.json --configfile config/real_example.yaml``.
"""

from __future__ import annotations

import time

import numpy as np

from sedjax.fitting.batch import fit_batch


def redshift_cost(model, arrays: dict, backend: str = "map", options=None, seed: int = 0, chunk_size=None,
                  mode: str = "fast", sys_frac: float = 0.0) -> dict:
    """Per-galaxy run time of a batched fit at the model's fixed z vs at ``arrays["redshift"]``.

    ``arrays``: :func:`sedjax.fitting.inputs.catalog_rows`-style dict (``ids, flux,
    flux_err, mask, redshift``); ``model.z_range`` must cover the redshifts and the model's
    redshift must be fixed. Returns a JSON-ready dict with ``fixed_z`` and ``varying_z``
    (``per_galaxy_s`` = run time / galaxies, compile excluded; ``compile_s``; ``wall_s``)
    and ``ratio_varying_over_fixed``.
    """
    if model.fixed_redshift is None:
        raise ValueError("redshift_cost needs a model with a fixed redshift (data redshifts per galaxy)")
    n = len(arrays["ids"])
    chunk_size = int(chunk_size or n)
    out = {}
    for label, z in (("fixed_z", np.full(n, model.fixed_redshift)), ("varying_z", np.asarray(arrays["redshift"]))):
        t0 = time.perf_counter()
        res = fit_batch(model, {**arrays, "redshift": z}, backend, seed=seed, mode=mode, sys_frac=sys_frac,
                        options=options, chunk_size=chunk_size, log=None)
        tp = res.throughput()
        out[label] = {"per_galaxy_s": tp["run_s"] / n, "run_s": tp["run_s"], "compile_s": tp["compile_s"],
                      "wall_s": time.perf_counter() - t0, "n_galaxies": n, "n_failed": res.n_failed,
                      "z_min": float(z.min()), "z_max": float(z.max())}
    out["ratio_varying_over_fixed"] = out["varying_z"]["per_galaxy_s"] / out["fixed_z"]["per_galaxy_s"]
    out["grid_nodes"] = len(model.z_tables) if model.z_tables is not None else 0
    out["z_range"] = list(model.z_range)
    out["backend"], out["options"], out["chunk_size"] = backend, dict(options or {}), chunk_size
    return out


def run_redshift_benchmark(model_cfg: dict, ssp_path, catalog_path, fit_cfg: dict, options: dict,
                           n_galaxies: int, backend: str = "map", runtime=None, log=None) -> dict:
    """Rule ``bench_redshift``: the first ``n_galaxies`` of the catalogue, the config's model
    built for the catalogue's redshift range; returns the record with provenance."""
    from sedjax.bench.record import provenance
    from sedjax.catalog.table import read_catalog
    from sedjax.fitting.inputs import catalog_rows
    from sedjax.model.from_config import model_from_config, redshift_range

    cat = read_catalog(catalog_path, model_cfg["bands"], log=log.warning if log else print)
    t0 = time.perf_counter()
    model = model_from_config(model_cfg, ssp_path, z_range=redshift_range(model_cfg, None, cat.redshift))
    build_s = time.perf_counter() - t0
    arrays, _ = catalog_rows(cat, 0, min(int(n_galaxies), len(cat)))
    rec = redshift_cost(model, arrays, backend, options=options, seed=int(fit_cfg["seed"]),
                        mode=fit_cfg["mode"], sys_frac=fit_cfg["sys_frac"])
    rec.update(model_build_s=build_s, catalog=str(catalog_path), runtime=runtime, provenance=provenance(model))
    if log is not None:
        log.info("fixed z %.4f s/galaxy, varying z %.4f s/galaxy: ratio %.2f (%d grid nodes, %d galaxies)",
                 rec["fixed_z"]["per_galaxy_s"], rec["varying_z"]["per_galaxy_s"], rec["ratio_varying_over_fixed"],
                 rec["grid_nodes"], len(arrays["ids"]))
    return rec
