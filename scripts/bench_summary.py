"""Rule ``bench_summary``: headline ratios of one device's benchmarks -> JSON + Markdown table."""

import json
from pathlib import Path

from sedjax.bench.core import summarize, summary_markdown, write_json
from sedjax.io.runtime import setup_logging

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "bench_summary")
device = smk.wildcards.device

results = {}
for path in smk.input:
    with open(path) as fh:
        res = json.load(fh)
    results[res.get("benchmark", Path(path).stem)] = res

summary = summarize(results)
summary["device"] = device
summary["inputs"] = list(smk.input)
# provenance of the first benchmark that ran (all ran on the same host and device)
summary["provenance"] = next(
    (r.get("provenance") for r in results.values() if not r.get("skipped") and r.get("provenance")), None
)
write_json(smk.output.json, summary)
md = summary_markdown(summary, device)
tmp = Path(smk.output.md + ".tmp")
tmp.write_text(md)
tmp.replace(smk.output.md)
for k, v in summary["headline"].items():
    log.info("%-36s %s", k, v)
if summary["skipped"]:
    log.warning("skipped: %s", summary["skipped"])
if summary["errors"]:
    log.warning("errors recorded: %s", summary["errors"])
