"""Rule ``bench_summary``: headline ratios of one device's benchmarks -> JSON + Markdown table.

All the work: :func:`sedjax.bench.summary.device_summary` and :func:`~sedjax.bench.summary.write_summary`.
"""

from sedjax.bench.summary import device_summary, write_summary
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "bench_summary")

summary = device_summary(list(smk.input), smk.wildcards.device)
write_summary(summary, smk.output.json, smk.output.md)
for k, v in summary["headline"].items():
    log.info("%-36s %s", k, v)
if summary["skipped"]:
    log.warning("skipped: %s", summary["skipped"])
if summary["errors"]:
    log.warning("errors recorded: %s", summary["errors"])
