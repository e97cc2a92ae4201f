"""Rule ``report``: results/summary.md and results/summary.html (key tables + figure links).

With a file catalogue (no truths) the batch fits have no recovery or calibration: their
section is replaced by :func:`sedjax.plotting.real_data.real_data_section` (per-band
residuals, the catalogue figures, and why the truth-based checks are absent).
"""

import pandas as pd

from sedjax.io.provenance import git_commit, utc_now
from sedjax.io.runtime import setup_logging
from sedjax.plotting.io import load_batch, load_by_device, load_json
from sedjax.plotting.real_data import real_data_section
from sedjax.plotting.report import build_sections, render_html, render_markdown, summary_preamble, write_text

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "report")
truths = bool(smk.params.has_truths)
batch, throughput = load_batch(smk.input.batch, smk.input.throughput)
figures = list(smk.input.figures)
sections = build_sections(
    smk.output.md,
    figures=[f for f in figures if truths or "/catalogue_" not in f],
    bench_summaries=load_by_device(smk.input.bench),
    sampler=load_by_device(smk.input.sampler),
    posterior=load_json(smk.input.posterior[0]) if smk.input.posterior else None,
    single=pd.read_parquet(smk.input.single),
    batch=batch if truths else None,
    throughput=throughput if truths else None,
    coverage=pd.read_parquet(smk.input.coverage[0]) if truths else None,
)
if not truths:
    resid = {pd.read_parquet(p)["backend"].iloc[0]: pd.read_parquet(p) for p in smk.input.catalogue}
    sections.append(real_data_section(smk.output.md, resid, figures, catalog=smk.params.summary.get("catalog", "")))
preamble = summary_preamble(smk.params.summary, utc_now(), git_commit())
write_text(smk.output.md, render_markdown(sections, preamble=preamble))
write_text(smk.output.html, render_html(sections, preamble=preamble))
log.info("wrote %s and %s (%d sections, %d figures)", smk.output.md, smk.output.html, len(sections),
         sum(len(s["figures"]) for s in sections))
