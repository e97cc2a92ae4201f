"""Per-galaxy fit cost at the galaxies' own redshifts vs at the model's fixed redshift.

A catalogue of real galaxies has one spectroscopic z per galaxy; the fast-mode tables then
come from the model's redshift grid (:mod:`sedjax.model.table_grid`) instead of being
rebuilt per galaxy. :func:`redshift_cost` fits the same photometry ``n`` times with
:func:`sedjax.fitting.single.fit`, once with every galaxy at the model's fixed redshift
(the model's own tables) and once at ``redshifts`` (each its own z), one after the other
in one process, and reports the median wall time per galaxy of each (the first fit of
each set, which compiles, is reported apart). Goal: varying / fixed ≤ 1.5.

Run: ``python -m sedjax.bench.redshift data/ssp/ssp_bc03_miles_kroupa.h5
results/catalog/catalog.parquet results/benchmarks/cpu/redshift_tables.json`` (a prepared
catalogue, e.g. of ``config/real_example.yaml``; its bands are the model's).
"""

from __future__ import annotations

import sys
import time

import jax
import numpy as np

from sedjax.fitting.single import fit


def redshift_cost(model, obs_list, redshifts, backend: str = "map", options=None, seed: int = 0) -> dict:
    """Wall seconds per galaxy: fixed z (the model's) vs each galaxy at ``redshifts[i]``.

    ``obs_list``: per galaxy ``{"flux", "flux_err", "mask"}``; ``model.z_range`` must cover
    ``redshifts`` and the model's redshift must be fixed.
    """
    if model.fixed_redshift is None:
        raise ValueError("redshift_cost needs a model with a fixed redshift (data redshifts per galaxy)")
    out = {}
    for label, zs in (("fixed_z", [model.fixed_redshift] * len(obs_list)), ("varying_z", list(redshifts))):
        times = []
        for i, (obs, z) in enumerate(zip(obs_list, zs)):
            t0 = time.perf_counter()
            res = fit(model, {**obs, "redshift": float(z)}, backend, jax.random.PRNGKey(seed + i), options=options)
            jax.block_until_ready(res.samples)
            times.append(time.perf_counter() - t0)
        out[label] = {"first_s": times[0], "per_galaxy_s": float(np.median(times[1:])) if len(times) > 1 else times[0],
                      "all_s": times, "n": len(times)}
    out["ratio_varying_over_fixed"] = out["varying_z"]["per_galaxy_s"] / out["fixed_z"]["per_galaxy_s"]
    out["grid_nodes"] = len(model.z_tables) if model.z_tables is not None else 0
    out["z_range"] = list(model.z_range)
    out["backend"], out["options"] = backend, dict(options or {})
    return out


def main(argv=None) -> dict:
    from sedjax.bench.record import provenance
    from sedjax.catalog.table import read_catalog, read_metadata
    from sedjax.io.jsonio import write_json
    from sedjax.io.runtime import configure_jax
    from sedjax.model.from_config import redshift_range, spec_from_config
    from sedjax.model.sed_model import SEDModel
    from sedjax.ssp.grid import load_ssp

    ssp_path, catalog_path, out_path, *rest = argv if argv is not None else sys.argv[1:]
    n = int(rest[0]) if rest else 12
    configure_jax("cpu", threads=1, cache_root=None)
    jax.config.update("jax_enable_x64", True)
    bands = read_metadata(catalog_path)["bands"]
    cat = read_catalog(catalog_path, bands)
    model_cfg = {"sfh": "dpl", "bands": bands, "params": {
        "sfh_dpl_log_peak_sfr": {"uniform": [-4.0, 2.0]}, "sfh_dpl_tau_gyr": {"uniform": [0.1, 10.0]},
        "sfh_dpl_alpha": {"uniform": [1.0, 10.0]}, "sfh_dpl_beta": {"uniform": [1.0, 10.0]},
        "met_logzsol": {"uniform": [-2.0, 0.2]}, "dust_tau_bc": {"uniform": [0.0, 2.0]},
        "dust_tau_diff": {"uniform": [0.0, 1.5]}, "dust_slope": -0.7, "redshift": float(np.median(cat.redshift))}}
    z_range = redshift_range(model_cfg, None, cat.redshift)
    t0 = time.perf_counter()
    model = SEDModel(spec_from_config(model_cfg), load_ssp(ssp_path), bands=bands, z_range=z_range)
    build_s = time.perf_counter() - t0
    k = min(n, len(cat))
    obs = [{"flux": cat.flux_maggies[i], "flux_err": cat.flux_err_maggies[i], "mask": cat.mask[i]} for i in range(k)]
    rec = redshift_cost(model, obs, cat.redshift[:k], options={"n_starts": 4, "n_steps": 150})
    rec.update(model_build_s=build_s, catalog=catalog_path, provenance=provenance(model))
    write_json(out_path, rec)
    print(f"fixed z: {rec['fixed_z']['per_galaxy_s']:.3f} s/galaxy, varying z: {rec['varying_z']['per_galaxy_s']:.3f} "
          f"s/galaxy (ratio {rec['ratio_varying_over_fixed']:.2f}; {rec['grid_nodes']} grid nodes) -> {out_path}")
    return rec


if __name__ == "__main__":
    main()
