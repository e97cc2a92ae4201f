# Summary of the run: results/summary.md and results/summary.html (key tables with
# relative links to the figures). The Snakemake HTML report of the figures:
#   snakemake --report results/report.html
# Helpers (figure_outputs, report_summary, ...): common.smk.


rule report:
    """Key tables (benchmark ratios, sampler cold/warm, time to a posterior vs bagpipes when enabled, backend
    throughput and coverage, recovery scatter) + figure links."""
    input:
        figures=figure_outputs(),
        bench=expand("results/benchmarks/{device}/summary.json", device=bench_devices()),
        sampler=expand("results/benchmarks/{device}/sampler.json", device=bench_devices()),
        posterior=[f for f in posterior_outputs() if f.endswith(".json")],
        single="results/fits/single/summary.parquet",
        batch=expand("results/fits/batch/{backend}.parquet", backend=batch_backends()),
        throughput=expand("results/fits/batch/{backend}_throughput.json", backend=batch_backends()),
        coverage=["results/calibration/coverage.parquet"] if has_truths() else [],
        catalogue=expand("results/catalog/ppc_{backend}.parquet", backend=batch_backends()) if catalog_is_file() else [],
    output:
        md="results/summary.md",
        html="results/summary.html",
    log:
        "logs/report.log",
    params:
        summary=lambda wildcards: report_summary(),
        has_truths=has_truths(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV_CPU
    script:
        "../../scripts/report_summary.py"
