"""Rule ``mock_catalog``: draw galaxies from the priors, predict photometry, add noise."""

from sedjax.io.runtime import configure_jax, setup_logging

configure_jax("cpu", threads=snakemake.threads)  # noqa: F821 (snakemake object)

import time  # noqa: E402

from sedjax.model.from_config import model_from_config, redshift_range  # noqa: E402
from sedjax.catalog.mock import generate_mock  # noqa: E402
from sedjax.catalog.table import write_catalog  # noqa: E402
from sedjax.io.provenance import package_versions, sha256_of  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0], "mock_catalog")
mock = smk.params.mock
model_cfg = smk.params.model
t0 = time.perf_counter()
model = model_from_config(model_cfg, smk.input.ssp, z_range=redshift_range(model_cfg, mock["redshift"]))
df = generate_mock(model, mock["n_galaxies"], mock["seed"], mock["noise"], redshift=mock["redshift"])
meta = {
    "kind": "mock",
    "model": model_cfg,
    "mock": mock,
    "seed": mock["seed"],
    "ssp_sha256": sha256_of(smk.input.ssp),
    "versions": package_versions(),
}
write_catalog(df, smk.output.parquet, meta=meta, csv_path=smk.output.csv)
log.info("wrote %d galaxies to %s in %.1f s", len(df), smk.output.parquet, time.perf_counter() - t0)
