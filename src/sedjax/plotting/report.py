"""Summary tables of the workflow (rule ``report``): Markdown and a self-contained HTML page.

:func:`build_sections` turns loaded results into sections of tables and figure links;
:func:`summary_preamble` words the run's provenance and set-up; :func:`render_markdown` and
:func:`render_html` write them. Figure links are relative to the output file's directory,
so ``results/summary.html`` shows ``results/figures/*.png`` wherever the results directory
is copied. Imports no JAX (the benchmark rows come from :mod:`sedjax.bench.summary`).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sedjax.bench.summary import SUMMARY_ROWS
from sedjax.io.atomic import atomic_output
from sedjax.plotting.calibration import backend_metrics
from sedjax.plotting.recovery import recovery_stats
from sedjax.plotting.style import backend_label, order_backends, order_quantities


def _f(v, fmt="{:.3g}", na="n/a"):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return na
    return fmt.format(v) if np.isfinite(v) else na


def _table(title, columns, rows, note=None) -> dict:
    return {"title": title, "columns": list(columns), "rows": [[str(c) for c in r] for r in rows], "note": note}


def _rel(path, out_dir) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir)).replace(os.sep, "/")


def _figs(figures, out_dir, pattern) -> list[tuple[str, str]]:
    rx = re.compile(pattern)
    return [(Path(f).stem, _rel(f, out_dir)) for f in figures if rx.search(Path(f).name)]


# ---------------------------------------------------------------------- sections
def benchmark_section(summaries: dict, figures, out_dir) -> dict:
    """Headline ratios per device (``results/benchmarks/{device}/summary.json``)."""
    tables, text = [], []
    for dev in sorted(summaries, key=lambda d: (d != "cpu", d)):
        s = summaries[dev]
        h = s.get("headline") or {}
        if s.get("skipped") and all(v is None for v in h.values()):
            text.append(f"{dev.upper()}: skipped ({'; '.join(f'{k}: {v}' for k, v in s['skipped'].items())}).")
            continue
        rows = []
        for key, lab, unit in SUMMARY_ROWS:
            v = h.get(key)
            if v is None:
                val = "n/a"
            elif unit == "µs":
                val = f"{v:.3g} µs" + (f" (batch {h['vmap_largest_batch']})" if h.get("vmap_largest_batch") else "")
            elif unit == "×loop":
                val = f"{v:.3g}× (batch {h.get('largest_looped_batch')})"
            else:
                val = f"{v:.3g}×"
            rows.append([lab, val])
        prov = s.get("provenance") or {}
        note = (f"{prov.get('cpu_model', '')}, {prov.get('allocated_cpus', '?')} of {prov.get('n_cpu', '?')} cores, "
                f"{prov.get('device_kind', '')} ({prov.get('platform', dev)}), {prov.get('float_precision', '')}, "
                f"jax {(prov.get('versions') or {}).get('jax')}, commit {str(prov.get('git_commit'))[:10]}, "
                f"{prov.get('date_utc', '')}. Ratios are slower / faster (median wall times).")
        tables.append(_table(f"Benchmark ratios ({dev.upper()})", ["quantity", "value"], rows, note))
    return {"title": "Benchmarks", "text": text, "tables": tables,
            "figures": _figs(figures, out_dir, r"^(jit_speedup|vmap_throughput|grad_field)\.png$")}


def sampler_section(sampler: dict, figures, out_dir) -> dict:
    """Cold vs warm time to posterior per backend (``sampler.json`` per device)."""
    tables, text = [], []
    for dev in sorted(sampler, key=lambda d: (d != "cpu", d)):
        s = sampler[dev]
        if s.get("skipped"):
            text.append(f"{dev.upper()}: skipped ({s.get('reason', '')}).")
            continue
        rows = []
        for b in order_backends(s.get("backends") or {}):
            r = s["backends"][b]
            if r.get("error"):
                rows.append([backend_label(b), "error: " + str(r["error"].get("message", ""))[:80], "", "", "", "", ""])
                continue
            w = (r.get("warm") or {}).get("median_s")
            rows.append([backend_label(b), _f(r.get("cold_s")), _f(r.get("compile_s")), _f(w), _f(r.get("cold_over_warm")),
                         _f(r.get("ms_per_iteration")), r.get("status", "")])
        tables.append(_table(
            f"Time to posterior, one galaxy ({dev.upper()})",
            ["backend", "cold [s]", "of which XLA compile [s]", "warm [s]", "cold / warm", "warm ms / iteration",
             "status"], rows,
            f"Galaxy {s.get('galaxy_id')}; cold = trace + compile + first run; warm = the same compiled program "
            f"again (median of {s.get('warm_repeats')})."))
    return {"title": "Sampler compile vs warm", "text": text, "tables": tables,
            "figures": _figs(figures, out_dir, r"^sampler_compile\.png$")}


def posterior_section(record: dict | None, figures, out_dir) -> dict:
    """Time to a posterior per backend against bagpipes + nautilus (``results/benchmarks/cpu/posterior.json``)."""
    tables, text = [], []
    if record:
        h = record.get("headline") or {}
        if h.get("available"):
            goal = "met" if h.get("goal_met") else "not met"
            text.append(
                f"{backend_label(h['reference'])} (status {h.get('reference_status')}): warm "
                f"{_f(h.get('reference_warm_s'))} s, cold {_f(h.get('reference_cold_s'))} s; bagpipes + nautilus "
                f"{_f(h.get('bagpipes_fit_s'))} s in the same job: {_f(h.get('bagpipes_over_warm'))}× the warm time, "
                f"{_f(h.get('bagpipes_over_cold'))}× the cold time (goal: ≥ {_f(h.get('goal_bagpipes_over_warm'))}× "
                f"warm, {goal}); "
                f"ESS per second {_f(h.get('ess_per_s_over_bagpipes'))}× bagpipes'.")
            fast = h.get("fastest_posterior")
            if fast:
                text.append(
                    f"Fastest posterior that passed its own checks: {backend_label(fast['backend'])}, warm "
                    f"{_f(fast['warm_s'])} s, {_f(fast.get('bagpipes_over_warm'))}× faster than bagpipes + nautilus "
                    f"(ESS {_f(fast['ess'], '{:.0f}')}, {fast['ess_key']}; ESS per second "
                    f"{_f(fast.get('ess_per_s_over_bagpipes'))}× bagpipes').")
        rows = []
        for b, r in (record.get("backends") or {}).items():
            if r.get("error"):
                rows.append([backend_label(b), "error: " + str(r["error"].get("message", ""))[:80]] + [""] * 8)
                continue
            ratios = r.get("ratios") or {}
            rows.append([backend_label(b), _f(r.get("cold_s")), _f((r.get("warm") or {}).get("median_s")),
                         r.get("model_evaluations", "n/a"), _f(r.get("ess"), "{:.0f}"), _f(r.get("ess_per_s")),
                         _f(r.get("rhat_max"), "{:.3f}"), _f(ratios.get("bagpipes_over_warm")),
                         _f(ratios.get("bagpipes_over_cold")), r.get("status", "")])
        bp = record.get("bagpipes") or {}
        if bp.get("error"):
            rows.append(["bagpipes + nautilus", "error: " + str(bp["error"].get("message", ""))[:80]] + [""] * 8)
        elif bp:
            rows.append(["bagpipes + nautilus", _f(bp.get("import_s", 0) + bp.get("setup_s", 0) + bp.get("fit_s", 0)),
                         _f(bp.get("fit_s")), bp.get("n_likelihood_calls", "n/a"), _f(bp.get("n_eff"), "{:.0f}"),
                         _f(bp.get("ess_per_s")), "", "1", "", ""])
        tables.append(_table(
            "Time to a posterior, one galaxy (CPU, one XLA worker)",
            ["code", "cold [s]", "warm [s]", "model evaluations", "ESS", "ESS / s", "R-hat max", "bagpipes / warm",
             "bagpipes / cold", "status"], rows,
            "Cold = trace + compile + first run; warm = the compiled program again (median of "
            f"{record.get('warm_repeats')}, fresh keys); bagpipes: cold = import + set-up + fit(), warm = fit(). "
            "Evaluations: target-function calls in a separate counting run (bagpipes: likelihood calls); ESS: the "
            "backend's own (NUTS: min bulk ESS; importance-weighted backends: their weights' ESS; nautilus: n_eff)."))
    return {"title": "Time to a posterior vs bagpipes", "text": text, "tables": tables,
            "figures": _figs(figures, out_dir, r"^posterior_(time|overlay)\.png$")}


def single_fit_section(single: pd.DataFrame | None, figures, out_dir) -> dict:
    """One row per (backend, galaxy) of ``results/fits/single/summary.parquet``."""
    tables = []
    if single is not None and len(single):
        rows = []
        for _, r in single.iterrows():
            rows.append([backend_label(r["backend"]), r.get("id"), r.get("status"), _f(r.get("compile_s")),
                         _f(r.get("run_s")), r.get("n_samples", "")])
        tables.append(_table("Single-galaxy fits", ["backend", "galaxy", "status", "compile [s]", "run [s]", "draws"],
                             rows))
    return {"title": "Single-galaxy fits", "text": [], "tables": tables,
            "figures": _figs(figures, out_dir, r"^(corner_all_\d+|sed_\d+|corner_[a-z]+_\d+)\.png$")}


def batch_section(batch: dict, throughput: dict, coverage: pd.DataFrame | None, figures, out_dir) -> dict:
    """Throughput, coverage and accuracy per backend over the batch catalogue."""
    tables = []
    if batch:
        m = backend_metrics(batch, throughput, coverage)
        rows = []
        for _, r in m.iterrows():
            tp = throughput.get(r["backend"]) or {}
            gps = tp.get("gal_per_s", tp.get("galaxies_per_s"))
            n, failed = r["n_galaxies"], r["n_failed"]
            converged = f"{100.0 * (n - failed) / n:.1f} %" if n else "n/a"
            rows.append([backend_label(r["backend"]), n, failed, converged, _f(gps), _f(tp.get("wall_s")),
                         _f(r["compile_s"]), _f(r["time_per_galaxy_s"]), _f(r["cov68"], "{:.2f}"), _f(r["cov95"], "{:.2f}"),
                         _f(r["mean_abs_z"], "{:.2f}"), _f(r["norm_err"], "{:.2f}")])
        tables.append(_table(
            "Batch fits: throughput and calibration",
            ["backend", "galaxies", "failed", "ok", "galaxies / s", "jobs' wall [s]", "compile [s]", "time / galaxy [s]",
             "coverage 68%", "coverage 95%", "mean |z|", "median |Δ| / std(truth)"], rows,
            "ok: galaxies not marked failed (converged, for the samplers that check it); jobs' wall: the chunk jobs' "
            "wall times summed (on c cores the fits take at least this / c); coverage averaged over parameters "
            "(nominal 0.68 / 0.95); |z| = |median − truth| / σ, σ = (p84 − p16)/2 (point estimates have none)."))
    return {"title": "Batch fits and calibration", "text": [], "tables": tables,
            "figures": _figs(figures, out_dir, r"^(calibration|backend_comparison)\.png$")}


def recovery_section(batch: dict, figures, out_dir) -> dict:
    """Scatter statistics of truth vs posterior median, per quantity and backend."""
    tables = []
    if batch:
        stats = {b: recovery_stats(batch[b]).set_index("quantity") for b in order_backends(batch)}
        names = order_quantities([n for s in stats.values() for n in s.index])
        for col, title in (("bias", "Recovery bias: median of (posterior median − truth)"),
                           ("nmad", "Recovery scatter: NMAD of (posterior median − truth)"),
                           ("mean_abs_z", "Mean |z| = |median − truth| / σ")):
            rows = []
            for n in names:
                unit = next((s.loc[n, "unit"] for s in stats.values() if n in s.index), "native")
                rows.append([n + (" [dex]" if unit == "dex" else "")]
                            + [_f(s.loc[n, col]) if n in s.index else "n/a" for s in stats.values()])
            tables.append(_table(title, ["quantity"] + [backend_label(b) for b in stats], rows))
    return {"title": "Parameter recovery", "text": [], "tables": tables,
            "figures": _figs(figures, out_dir, r"^recovery_[a-z]+\.png$")}


def build_sections(out_path, figures=(), bench_summaries=None, sampler=None, single=None, batch=None,
                   throughput=None, coverage=None, posterior=None) -> list[dict]:
    """Every section of the summary, with figure links relative to ``out_path``'s directory
    (``posterior``: the posterior benchmark's record, when it ran)."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    figures = [f for f in figures if str(f).endswith(".png")]
    sections = [
        benchmark_section(bench_summaries or {}, figures, out_dir),
        sampler_section(sampler or {}, figures, out_dir),
        posterior_section(posterior, figures, out_dir),
        single_fit_section(single, figures, out_dir),
        batch_section(batch or {}, throughput or {}, coverage, figures, out_dir),
        recovery_section(batch or {}, figures, out_dir),
    ]
    # a section with nothing to show (a real catalogue has no recovery or calibration; a run
    # without benchmarks no benchmark tables) is left out rather than printed as a bare heading
    sections = [s for s in sections if s["text"] or s["tables"] or s["figures"]]
    listed = {p for s in sections for _, p in s["figures"]}
    rest = [(Path(f).stem, _rel(f, out_dir)) for f in figures if _rel(f, out_dir) not in listed]
    if rest:
        sections.append({"title": "Other figures", "text": [], "tables": [], "figures": rest})
    return sections


def _mock_text(run: dict) -> str:
    return f"mock catalogue of {run['n_galaxies']} galaxies"


def summary_preamble(run: dict, generated_utc: str, commit: str | None = None) -> list[str]:
    """The summary's opening paragraphs: when and from which commit it was made, and the run.

    ``run`` (rule ``report``'s ``params.summary``, ``report_summary()`` in
    ``workflow/rules/common.smk``): ``ssp`` (grid name), ``nebular`` (bool:
    ``ssp.nebular.enabled``), ``sfh``, ``dust_law``, ``bands``, ``n_galaxies``,
    ``backends``, ``mode``; optional ``catalog`` (the catalogue in words, for a user's file).
    """
    provenance = f"Generated {generated_utc}" + (f" from commit {commit[:10]}" if commit else "") + "."
    nebular = " (with nebular emission)" if run["nebular"] else ""
    return [
        f"{provenance} SSP grid: `{run['ssp']}`{nebular}; model: SFH `{run['sfh']}`, dust `{run['dust_law']}`, "
        f"bands {', '.join(run['bands'])}; {run.get('catalog') or _mock_text(run)}; "
        f"backends {', '.join(run['backends'])}; photometry mode `{run['mode']}` in the likelihood.",
        "The Snakemake report (`snakemake --report results/report.html`) holds the same figures with captions.",
    ]


# ---------------------------------------------------------------------- rendering
def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(sections, title="sedjax-workflow summary", preamble=()) -> str:
    lines = [f"# {title}", ""]
    for p in preamble:
        lines += [p, ""]
    for s in sections:
        lines += [f"## {s['title']}", ""]
        for p in s["text"]:
            lines += [p, ""]
        for t in s["tables"]:
            lines += [f"**{t['title']}**", "", "| " + " | ".join(map(_md_cell, t["columns"])) + " |",
                      "|" + "---|" * len(t["columns"])]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in t["rows"]]
            lines.append("")
            if t.get("note"):
                lines += [t["note"], ""]
        if s["figures"]:
            lines += ["Figures: " + ", ".join(f"[{name}]({path})" for name, path in s["figures"]), ""]
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;background:#fff;padding:0 1em;line-height:1.4}
h1{border-bottom:2px solid #0072B2;padding-bottom:.2em}h2{margin-top:1.6em;color:#0072B2}
table{border-collapse:collapse;margin:.6em 0 .3em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#eef4fa}
td:first-child,th:first-child{text-align:left}caption{font-weight:600;text-align:left;padding:.3em 0}
p.note{font-size:.85em;color:#555;margin-top:0}
.gallery{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;border:1px solid #ddd;padding:.4em;background:#fafafa;max-width:360px}
figure img{max-width:350px;max-height:300px;display:block}figcaption{font-size:.85em;text-align:center}
code{background:#f3f3f3;padding:0 .2em}
"""


def _inline(s: str) -> str:
    """Escape, then render `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(s))


def render_html(sections, title="sedjax-workflow summary", preamble=()) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    out += [f"<p>{_inline(p)}</p>" for p in preamble]
    for s in sections:
        out.append(f"<h2>{html.escape(s['title'])}</h2>")
        out += [f"<p>{_inline(p)}</p>" for p in s["text"]]
        for t in s["tables"]:
            out.append(f"<table><caption>{_inline(t['title'])}</caption><thead><tr>"
                       + "".join(f"<th>{_inline(c)}</th>" for c in t["columns"]) + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in t["rows"]]
            out.append("</tbody></table>")
            if t.get("note"):
                out.append(f'<p class="note">{_inline(t["note"])}</p>')
        if s["figures"]:
            out.append('<div class="gallery">')
            for name, path in s["figures"]:
                p = html.escape(path, quote=True)
                out.append(f'<figure><a href="{p}"><img src="{p}" alt="{html.escape(name)}" loading="lazy"></a>'
                           f"<figcaption><a href=\"{p}\">{html.escape(name)}</a></figcaption></figure>")
            out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_text(path, text: str) -> None:
    """Atomic text write (:func:`sedjax.io.atomic.atomic_output`)."""
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
