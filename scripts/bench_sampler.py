"""Rule ``bench_sampler``: cold vs warm time-to-posterior of every backend on one mock galaxy.

The ``device`` wildcard picks the JAX platform; on ``gpu`` with no GPU visible it writes
``{"skipped": true, "reason": ...}`` and exits 0 (as the other benchmarks). The
persistent compilation cache is off here unless ``benchmarks.compilation_cache`` is
true, so the cold call measures a real compilation.
"""

import sys
import time

from sedjax.io.runtime import start_benchmark_job

smk = snakemake  # noqa: F821 (snakemake object)
device = smk.wildcards.device
out_path = smk.output[0]
started = start_benchmark_job(device, smk.threads, smk.params.bench, smk.log[0], "sampler", out_path)
if started is None:  # gpu requested, none visible: skip record written
    sys.exit(0)
runtime, log, dtype = started

from sedjax.bench import core as bench  # noqa: E402
from sedjax.bench.sampler import bench_sampler  # noqa: E402
from sedjax.model.from_config import model_from_config  # noqa: E402
from sedjax.catalog.table import read_catalog  # noqa: E402

cfg = smk.params.cfg
t0 = time.perf_counter()
model = model_from_config(smk.params.model, smk.input.ssp, dtype=dtype)
cat = read_catalog(smk.input.catalog, model.bands, log=log.warning)
rows = [i for i, g in enumerate(cat.ids) if int(g) == int(cfg["galaxy_id"])]
if not rows:
    raise ValueError(f"{smk.input.catalog}: galaxy id {cfg['galaxy_id']} not found (benchmarks.sampler.galaxy_id)")
i = rows[0]
obs = {"flux": cat.flux_maggies[i], "flux_err": cat.flux_err_maggies[i], "mask": cat.mask[i], "redshift": cat.redshift[i]}
# each backend: the fit options of the config, then the sampler benchmark's overrides
options = {b: {**(smk.params.backend_options.get(b) or {}), **(cfg.get("options", {}).get(b) or {})}
           for b in cfg["backends"]}
log.info("galaxy %s, backends %s, options %s", cfg["galaxy_id"], cfg["backends"], options)
result = bench_sampler(
    model, obs, backends=cfg["backends"], options=options, seed=int(cfg.get("seed", 0)),
    warm_repeats=int(cfg["warm_repeats"]), mode=smk.params.fit["mode"], sys_frac=smk.params.fit["sys_frac"],
    galaxy_id=cfg["galaxy_id"], log=log.info,
)
failed = [name for name, r in result["backends"].items() if r.get("error")]
if failed:
    log.error("backends that raised (recorded in the JSON): %s", failed)
result["device"] = device
result["runtime"] = runtime
result["model_config"] = smk.params.model
result["wall_s"] = time.perf_counter() - t0
bench.write_json(out_path, result)
log.info("bench_sampler (%s) done in %.1f s -> %s", device, result["wall_s"], out_path)
