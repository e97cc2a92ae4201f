"""Headline ratios of one device's benchmarks: the summary dict and its Markdown table.

Imports no JAX (the report's figure job reads :data:`SUMMARY_ROWS`): it works on the
benchmark JSON records only.
"""

from __future__ import annotations

import json
from pathlib import Path

from sedjax.io.atomic import atomic_output
from sedjax.io.jsonio import write_json


def summarize(results: dict) -> dict:
    """Headline numbers from ``{name: result dict}`` (missing/skipped ones become None)."""

    def get(d, *keys):
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return None
            d = d[k]
        return d

    skipped = {k: v.get("reason") for k, v in results.items() if isinstance(v, dict) and v.get("skipped")}
    jit, grad, vmap, cache, peer = (results.get(k, {}) for k in ("jit", "grad", "vmap", "cache", "peer"))
    head = {
        "fast_vs_bagpipes": get(peer, "ratios", "bagpipes_over_fast"),
        "exact_vs_bagpipes": get(peer, "ratios", "bagpipes_over_exact"),
        "jit_vs_numpy_exact": get(jit, "modes", "exact", "ratios", "numpy_over_jit"),
        "jit_vs_numpy_exact_default_blas_threads": get(jit, "modes", "exact", "ratios", "numpy_default_threads_over_jit"),
        "jit_vs_numpy_fast": get(jit, "modes", "fast", "ratios", "numpy_over_jit"),
        "jit_vs_op_by_op_exact": get(jit, "modes", "exact", "ratios", "op_by_op_over_jit"),
        "jit_vs_op_by_op_fast": get(jit, "modes", "fast", "ratios", "op_by_op_over_jit"),
        "grad_over_forward_fast": get(grad, "single", "fast", "ratios", "grad_over_forward"),
        "grad_over_forward_exact": get(grad, "single", "exact", "ratios", "grad_over_forward"),
        "batched_grad_over_forward_fast": get(grad, "batched", "fast", "ratios", "grad_over_forward"),
        "vmap_per_galaxy_us_at_largest": (
            None if get(vmap, "vmap_per_galaxy_s_at_largest") is None else 1e6 * vmap["vmap_per_galaxy_s_at_largest"]
        ),
        "vmap_largest_batch": get(vmap, "largest_batch"),
        "loop_over_vmap_at_largest_looped": None,
        "largest_looped_batch": None,
        "cache_cold_over_warm_first_result": get(cache, "ratios", "cold_over_warm_first_result"),
        "cache_cold_first_result_s": get(cache, "cold", "first_result_s"),
        "cache_warm_first_result_s": get(cache, "warm", "first_result_s"),
    }
    looped = [r for r in (get(vmap, "rows") or []) if r.get("loop_over_vmap") is not None]
    if looped:
        head["loop_over_vmap_at_largest_looped"] = looped[-1]["loop_over_vmap"]
        head["largest_looped_batch"] = looped[-1]["batch"]
    head["peer_max_abs_mag_diff_exact"] = get(peer, "max_abs_mag_diff_exact")
    errors = {}
    if get(peer, "bagpipes_error"):
        errors["peer"] = peer["bagpipes_error"]["message"]
    if get(jit, "numpy_reference_error"):
        errors["jit_numpy"] = jit["numpy_reference_error"]["message"]
    return {"headline": head, "skipped": skipped, "errors": errors}


# (headline key, label, unit) of each row of the Markdown table; the report's table uses it too
SUMMARY_ROWS = (
    ("fast_vs_bagpipes", "bagpipes `update()` / ours fast (jit)", "×"),
    ("exact_vs_bagpipes", "bagpipes `update()` / ours exact (jit)", "×"),
    ("jit_vs_numpy_exact", "NumPy reference (faster BLAS setting) / jit, exact", "×"),
    ("jit_vs_numpy_exact_default_blas_threads", "NumPy reference (default BLAS threads) / jit, exact", "×"),
    ("jit_vs_numpy_fast", "NumPy reference (exact physics) / jit fast", "×"),
    ("jit_vs_op_by_op_exact", "op-by-op JAX / jit, exact", "×"),
    ("jit_vs_op_by_op_fast", "op-by-op JAX / jit, fast", "×"),
    ("grad_over_forward_fast", "jit(grad(loglik)) / jit forward, fast", "×"),
    ("grad_over_forward_exact", "jit(grad(loglik)) / jit forward, exact", "×"),
    ("batched_grad_over_forward_fast", "vmap(grad) / vmap forward per galaxy, fast", "×"),
    ("vmap_per_galaxy_us_at_largest", "per-galaxy time at the largest batch (fast, vmap)", "µs"),
    ("loop_over_vmap_at_largest_looped", "Python loop of jitted calls / vmap, per galaxy", "×loop"),
    ("cache_cold_over_warm_first_result", "time to first result, cold / warm compilation cache", "×"),
)


def summary_markdown(summary: dict, device: str) -> str:
    """A Markdown table of the headline ratios."""
    h = summary["headline"]
    lines = [f"# Benchmarks ({device})", ""]
    prov = summary.get("provenance") or {}
    if prov:
        lines += [
            f"Device: {prov.get('device_kind')} ({prov.get('platform')}); CPU: {prov.get('cpu_model')}, "
            f"{prov.get('allocated_cpus')} of {prov.get('n_cpu')} cores; precision {prov.get('float_precision')}; "
            f"jax {prov.get('versions', {}).get('jax')}; commit {str(prov.get('git_commit'))[:10]}; {prov.get('date_utc')}",
            "",
        ]
    lines += ["| quantity | value |", "|---|---|"]
    for key, label, unit in SUMMARY_ROWS:
        v = h.get(key)
        if v is None:
            s = "n/a"
        elif unit == "µs":
            s = f"{v:.3g} µs"
            if h.get("vmap_largest_batch"):
                s += f" (batch {h['vmap_largest_batch']})"
        elif unit == "×loop":
            s = f"{v:.3g}× (batch {h.get('largest_looped_batch')})"
        else:
            s = f"{v:.3g}×"
        lines.append(f"| {label} | {s} |")
    if h.get("peer_max_abs_mag_diff_exact") is not None:
        lines += ["", f"Largest |ours exact − bagpipes| over the bands: {h['peer_max_abs_mag_diff_exact']:.3f} mag "
                  "(sanity number: cosmology, IGM and sampling conventions differ; see peer.json)."]
    if h.get("cache_cold_first_result_s") is not None:
        lines += ["", f"Cold / warm time to first result: {h['cache_cold_first_result_s']:.2f} s / "
                  f"{h['cache_warm_first_result_s']:.2f} s."]
    if summary.get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in summary["skipped"].items())]
    if summary.get("errors"):
        lines += ["", "Errors: " + "; ".join(f"{k}: {v}" for k, v in summary["errors"].items())]
    lines += ["", "Ratios are slower / faster (median wall times); see the per-benchmark JSON for IQRs and raw times.", ""]
    return "\n".join(lines)


def load_results(paths) -> dict:
    """``{benchmark name: record}`` from benchmark JSON files (name: the record's
    ``benchmark`` key, else the file stem)."""
    results = {}
    for path in paths:
        with open(path) as fh:
            res = json.load(fh)
        results[res.get("benchmark", Path(path).stem)] = res
    return results


def device_summary(paths, device: str) -> dict:
    """:func:`summarize` of the benchmark files ``paths`` of one device, with ``device``,
    ``inputs`` and the ``provenance`` of the first benchmark that ran (all ran on the same
    host and device)."""
    results = load_results(paths)
    summary = summarize(results)
    summary["device"] = device
    summary["inputs"] = list(paths)
    summary["provenance"] = next(
        (r.get("provenance") for r in results.values() if not r.get("skipped") and r.get("provenance")), None
    )
    return summary


def write_summary(summary: dict, json_path, md_path) -> None:
    """Write ``summary`` as JSON and its :func:`summary_markdown` table (both atomically)."""
    write_json(json_path, summary)
    with atomic_output(md_path) as tmp:
        Path(tmp).write_text(summary_markdown(summary, summary["device"]))
