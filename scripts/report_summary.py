"""Rule ``report``: results/summary.md and results/summary.html (key tables + figure links)."""

import pandas as pd

from sedjax.plotting.io import load_batch, load_by_device
from sedjax.plotting.report import build_sections, render_html, render_markdown, write_text
from sedjax.io.provenance import git_commit, utc_now
from sedjax.io.runtime import setup_logging

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
cfg = smk.params.summary
commit = git_commit()
provenance = f"Generated {utc_now()}" + (f" from commit {commit[:10]}" if commit else "") + "."
preamble = [
    f"{provenance} SSP grid: `{cfg['ssp']}`{' (with nebular emission)' if '_wNE_' in cfg['ssp'] else ''}; model: SFH `{cfg['sfh']}`, dust `{cfg['dust_law']}`, "
    f"bands {', '.join(cfg['bands'])}; mock catalogue of {cfg['n_galaxies']} galaxies; "
    f"backends {', '.join(cfg['backends'])}; photometry mode `{cfg['mode']}` in the likelihood.",
    "The Snakemake report (`snakemake --report results/report.html`) holds the same figures with captions.",
]
write_text(smk.output.md, render_markdown(sections, preamble=preamble))
write_text(smk.output.html, render_html(sections, preamble=preamble))
log.info("wrote %s and %s (%d sections, %d figures)", smk.output.md, smk.output.html, len(sections),
         sum(len(s["figures"]) for s in sections))
