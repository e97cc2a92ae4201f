"""Rule ``report``: results/summary.md and results/summary.html (key tables + figure links)."""

import pandas as pd

from sedjax.io.provenance import git_commit, utc_now
from sedjax.io.runtime import setup_logging
from sedjax.plotting.io import load_batch, load_by_device
from sedjax.plotting.report import build_sections, render_html, render_markdown, summary_preamble, write_text

smk = snakemake  # noqa: F821 (snakemake object)
log = setup_logging(smk.log[0], "report")
batch, throughput = load_batch(smk.input.batch, smk.input.throughput)
sections = build_sections(
    smk.output.md,
    figures=list(smk.input.figures),
    bench_summaries=load_by_device(smk.input.bench),
    sampler=load_by_device(smk.input.sampler),
    single=pd.read_parquet(smk.input.single),
    batch=batch,
    throughput=throughput,
    coverage=pd.read_parquet(smk.input.coverage),
)
preamble = summary_preamble(smk.params.summary, utc_now(), git_commit())
write_text(smk.output.md, render_markdown(sections, preamble=preamble))
write_text(smk.output.html, render_html(sections, preamble=preamble))
log.info("wrote %s and %s (%d sections, %d figures)", smk.output.md, smk.output.html, len(sections),
         sum(len(s["figures"]) for s in sections))
