"""Calibration across a catalogue: interval coverage, rank histograms, and the
time-vs-accuracy comparison of backends.

Inputs: ``results/calibration/coverage.parquet`` (per backend × parameter: ``cov68``,
``cov95``, ``n``, ...), ``results/calibration/ranks.parquet`` (per backend, parameter and
galaxy: normalised rank in [0, 1]), the batch tables and throughput JSON files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from sedjax.plotting.recovery import recovery_stats
from sedjax.plotting.style import (
    backend_color,
    backend_label,
    backend_marker,
    figure_style,
    note,
    order_backends,
    order_quantities,
    save_figure,
    symbol,
)

PARAM_COLUMNS = ("parameter", "param", "quantity", "name")
RANK_COLUMNS = ("rank", "normalised_rank", "normalized_rank", "rank_norm", "u")


def _col(df: pd.DataFrame, candidates, what: str) -> str:
    for c in candidates:
        if c in df.columns:
            return c
    raise KeyError(f"no {what} column (looked for {list(candidates)}) in columns {list(df.columns)}")


COVERAGE_ALIASES = {"coverage_68": "cov68", "coverage_95": "cov95", "n_galaxies": "n"}


def normalise_coverage(coverage: pd.DataFrame) -> pd.DataFrame:
    """The coverage table with canonical column names: ``backend``, ``parameter``,
    ``cov68``, ``cov95``, ``n`` (accepts ``coverage_68``, ``coverage_95``, ``n_galaxies``
    and the parameter-column spellings of :data:`PARAM_COLUMNS`)."""
    df = coverage.rename(columns={k: v for k, v in COVERAGE_ALIASES.items() if k in coverage.columns
                                  and v not in coverage.columns})
    pcol = _col(df, PARAM_COLUMNS, "parameter")
    if pcol != "parameter":
        df = df.rename(columns={pcol: "parameter"})
    return df


def rank_bins(n: int) -> int:
    """Histogram bins for ``n`` ranks: about five per bin, between 3 and 10."""
    return int(max(3, min(10, n // 5)))


def plot_calibration(coverage: pd.DataFrame, ranks: pd.DataFrame | None, path, pdf: bool = True) -> list[str]:
    """Coverage of the 68% and 95% intervals per backend and parameter, and rank histograms.

    Top: empirical coverage with the nominal level and its ±2σ binomial band for the
    number of galaxies. Bottom: one rank histogram per backend (row) and parameter
    (column), with the uniform expectation ±1σ; a calibrated posterior gives flat
    histograms, an over-confident one a U shape, an under-confident one a hump.
    """
    coverage = normalise_coverage(coverage)
    pcol = "parameter"
    backends = order_backends(coverage["backend"].astype(str).unique())
    params = order_quantities(coverage[pcol].astype(str).unique())
    if ranks is not None and len(ranks):
        rp = _col(ranks, PARAM_COLUMNS, "parameter")
        rr = _col(ranks, RANK_COLUMNS, "rank")
    nb, npar = len(backends), len(params)
    with figure_style():
        fig = plt.figure(figsize=(max(10.0, 1.25 * npar + 1.5), 4.2 + 1.05 * max(nb, 1) + 0.8))
        top, bottom = fig.subfigures(2, 1, height_ratios=[4.2, 1.05 * max(nb, 1) + 0.8], hspace=0.02)
        axc = top.subplots(1, 2, sharey=True)
        x = np.arange(npar)
        offs = np.linspace(-0.3, 0.3, nb) if nb > 1 else np.zeros(1)
        for ax, (col, nominal) in zip(axc, (("cov68", 0.68), ("cov95", 0.95))):
            if col not in coverage.columns:
                note(ax, f"no {col} column")
                continue
            n_med = float(np.nanmedian(coverage["n"])) if "n" in coverage.columns else np.nan
            if np.isfinite(n_med) and n_med > 0:
                s = 2 * np.sqrt(nominal * (1 - nominal) / n_med)
                ax.axhspan(nominal - s, min(nominal + s, 1.0), color="0.5", alpha=0.15, lw=0,
                           label=f"nominal ±2σ (binomial, n = {n_med:.0f})")
            ax.axhline(nominal, color="0.2", lw=1, ls="--", label="nominal level")
            for bi, b in enumerate(backends):
                sub = coverage[coverage["backend"].astype(str) == b].set_index(pcol)
                y = np.array([sub[col].get(p, np.nan) for p in params], float)
                ax.plot(x + offs[bi], y, ls="", marker=backend_marker(b), color=backend_color(b, bi), ms=6,
                        label=backend_label(b))
            ax.set_xticks(x, [symbol(p) for p in params], rotation=45, ha="right", rotation_mode="anchor")
            ax.set_title(f"{int(round(nominal * 100))}% interval coverage")
            ax.set_ylim(-0.03, 1.03)
            ax.grid(axis="x", visible=False)
        axc[0].set_ylabel("fraction of truths inside")
        h, lab = axc[1].get_legend_handles_labels()
        top.legend(h, lab, loc="center left", bbox_to_anchor=(0.81, 0.6), fontsize=9)
        top.subplots_adjust(left=0.07, right=0.8, bottom=0.27, top=0.92, wspace=0.05)
        # rank histograms
        if ranks is None or not len(ranks):
            ax = bottom.subplots()
            note(ax, "no ranks table")
        else:
            axr = bottom.subplots(max(nb, 1), max(npar, 1), squeeze=False, sharex=True)
            for bi, b in enumerate(backends):
                for pi, p in enumerate(params):
                    ax = axr[bi, pi]
                    r = ranks[(ranks["backend"].astype(str) == b) & (ranks[rp].astype(str) == p)][rr].to_numpy(float)
                    r = r[np.isfinite(r)]
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.grid(False)
                    for side in ("top", "right"):
                        ax.spines[side].set_visible(False)
                    if r.size:
                        k = rank_bins(r.size)
                        ax.hist(np.clip(r, 0, 1), bins=k, range=(0, 1), color=backend_color(b, bi), alpha=0.75,
                                zorder=2)
                        e = r.size / k
                        ax.axhspan(e - np.sqrt(e * (1 - 1 / k)), e + np.sqrt(e * (1 - 1 / k)), color="0.5",
                                   alpha=0.25, lw=0, zorder=0)
                        ax.axhline(e, color="0.2", lw=0.7, ls="--", zorder=3)
                        ax.set_ylim(0, max(2.2 * e, ax.get_ylim()[1]))
                    else:
                        ax.text(0.5, 0.5, "–", ha="center", va="center", transform=ax.transAxes, color="0.5")
                    if bi == 0:
                        ax.set_title(symbol(p), fontsize=9)
                    if pi == 0:
                        ax.set_ylabel(backend_label(b), rotation=0, ha="right", va="center", fontsize=9)
            bottom.suptitle("Rank of the truth within each posterior (x: 0 → 1; dashed: uniform ±1σ)",
                            fontsize=10, y=0.995)
            bottom.subplots_adjust(left=0.1, right=0.98, bottom=0.03, top=0.86, wspace=0.08, hspace=0.12)
        return save_figure(fig, path, pdf=pdf)


def time_per_galaxy(df: pd.DataFrame | None, throughput: dict | None) -> tuple[float, str]:
    """Seconds per galaxy: 1 / throughput (compile excluded) or the median ``run_s``."""
    if throughput:
        for k in ("gal_per_s", "galaxies_per_s", "galaxies_per_second", "throughput_gal_per_s"):
            v = throughput.get(k)
            if v is not None and np.isfinite(v) and v > 0:
                return 1.0 / float(v), "throughput"
    if df is not None and "run_s" in df.columns:
        v = float(np.nanmedian(df["run_s"].to_numpy(float)))
        if np.isfinite(v):
            return v, "median run_s"
    return float("nan"), "n/a"


def backend_metrics(batch: dict, throughput: dict | None = None, coverage: pd.DataFrame | None = None,
                    free_params=None) -> pd.DataFrame:
    """Per backend: time per galaxy, mean |z|, mean coverage, normalised error, failures.

    ``mean_abs_z`` and ``norm_err`` average :func:`recovery_stats` over ``free_params``
    (default: every recovered quantity); ``cov68``/``cov95`` average ``coverage`` over
    its parameters (or, without it, ``cov68`` from the batch table).
    """
    throughput = throughput or {}
    rows = []
    for b in order_backends(batch):
        df = batch[b]
        st = recovery_stats(df)
        if free_params is not None:
            st = st[st["quantity"].isin(list(free_params))]
        t, src = time_per_galaxy(df, throughput.get(b))
        row = {
            "backend": b,
            "n_galaxies": len(df),
            "n_failed": int((df["status"].astype(str) != "ok").sum()) if "status" in df.columns else 0,
            "time_per_galaxy_s": t,
            "time_source": src,
            "compile_s": (throughput.get(b) or {}).get("compile_s", np.nan),
            "mean_abs_z": float(np.nanmean(st["mean_abs_z"])) if st["mean_abs_z"].notna().any() else np.nan,
            "norm_err": float(np.nanmean(st["norm_err"])) if st["norm_err"].notna().any() else np.nan,
            "cov68": float(np.nanmean(st["cov68"])) if len(st) else np.nan,
            "cov95": np.nan,
        }
        if coverage is not None and len(coverage):
            cov = normalise_coverage(coverage)
            pcol = "parameter"
            sub = cov[cov["backend"].astype(str) == b]
            if free_params is not None:
                sub = sub[sub[pcol].astype(str).isin(list(free_params))]
            for c in ("cov68", "cov95"):
                if c in sub.columns and len(sub):
                    row[c] = float(np.nanmean(sub[c]))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_backend_comparison(batch: dict, path, throughput: dict | None = None, coverage: pd.DataFrame | None = None,
                            free_params=None, pdf: bool = True) -> list[str]:
    """Time per galaxy vs accuracy, one marker per backend.

    Panels: mean |z| of the posterior medians (1 is calibrated-ish; point estimates have
    no width and are left out); mean coverage of the 68% (filled) and 95% (open)
    intervals against their nominal levels; median |median − truth| in units of the
    catalogue's spread of truths.
    """
    m = backend_metrics(batch, throughput, coverage, free_params)
    with figure_style():
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.4))
        handles = []
        for i, r in m.iterrows():
            b = r["backend"]
            c, mk = backend_color(b, i), backend_marker(b)
            t = r["time_per_galaxy_s"]
            if np.isfinite(r["mean_abs_z"]):
                axes[0].plot(t, r["mean_abs_z"], mk, color=c, ms=9)
            if np.isfinite(r["cov68"]):
                axes[1].plot(t, r["cov68"], mk, color=c, ms=9)
            if np.isfinite(r["cov95"]):
                axes[1].plot(t, r["cov95"], mk, color=c, ms=9, mfc="white", mew=1.5)
            if np.isfinite(r["norm_err"]):
                axes[2].plot(t, r["norm_err"], mk, color=c, ms=9)
            extra = f", {r['n_failed']} failed" if r["n_failed"] else ""
            handles.append(Line2D([], [], color=c, marker=mk, ls="", ms=8, label=f"{backend_label(b)}{extra}"))
        axes[0].axhline(np.sqrt(2 / np.pi), color="0.3", ls=":", lw=1)
        axes[0].annotate("calibrated Gaussian: √(2/π)", (0.02, np.sqrt(2 / np.pi)), xycoords=("axes fraction", "data"),
                         xytext=(0, 3), textcoords="offset points", fontsize=8, color="0.3")
        axes[0].set_ylabel("mean |median − truth| / σ")
        axes[0].set_title("Accuracy in posterior widths (point estimates excluded)")
        axes[1].axhline(0.68, color="0.3", ls="--", lw=1)
        axes[1].axhline(0.95, color="0.3", ls=":", lw=1)
        axes[1].set_ylim(-0.03, 1.03)
        axes[1].set_ylabel("mean coverage over parameters")
        axes[1].set_title("Coverage: 68% (filled, --) and 95% (open, ··)")
        axes[2].set_ylabel("median |median − truth| / std(truth)")
        axes[2].set_title("Point accuracy (prior-spread units)")
        from matplotlib.ticker import FuncFormatter

        t = m["time_per_galaxy_s"].to_numpy(float)
        t = t[np.isfinite(t) & (t > 0)]
        for ax, col in zip(axes, ("mean_abs_z", None, "norm_err")):
            ax.set_xscale("log")
            ax.set_xlabel("time per galaxy [s] (batched, compile excluded)")
            if t.size:
                ax.set_xlim(t.min() / 2.5, t.max() * 2.5)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
            if col is not None:
                v = m[col].to_numpy(float)
                top = np.nanmax(v) if np.isfinite(v).any() else 1.0
                ax.set_ylim(0, max(top * 1.18, 1.0 if col == "mean_abs_z" else 0.0) or 1.0)
        fig.legend(handles=handles, loc="lower center", ncol=min(6, max(len(handles), 1)),
                   bbox_to_anchor=(0.5, -0.01))
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        return save_figure(fig, path, pdf=pdf)
