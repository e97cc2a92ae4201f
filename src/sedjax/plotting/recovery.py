"""Parameter recovery across a catalogue: truth vs posterior median, and its statistics.

Input: one batch table per backend (``results/fits/batch/{backend}.parquet``): one row per
galaxy with ``id``, ``<name>_median``, ``<name>_p16``, ``<name>_p84``, ``true_<name>``,
``status`` and ``run_s``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from sedjax.plotting.style import backend_color, backend_label, figure_style, is_log_quantity, label, note, order_quantities, save_figure


def recovered_quantities(df: pd.DataFrame) -> list[str]:
    """Names with ``_median``, ``_p16``, ``_p84`` and ``true_`` columns, free first."""
    names = [c[: -len("_median")] for c in df.columns if c.endswith("_median")]
    ok = [n for n in names if {f"{n}_p16", f"{n}_p84", f"true_{n}"} <= set(df.columns)]
    return order_quantities(ok)


def _ok(df: pd.DataFrame) -> np.ndarray:
    if "status" not in df.columns:
        return np.ones(len(df), bool)
    return (df["status"].astype(str) == "ok").to_numpy()


def _values(df, name, log):
    t = df[f"true_{name}"].to_numpy(float)
    m = df[f"{name}_median"].to_numpy(float)
    lo = df[f"{name}_p16"].to_numpy(float)
    hi = df[f"{name}_p84"].to_numpy(float)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            t, m, lo, hi = (np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan) for a in (t, m, lo, hi))
    return t, m, lo, hi


def recovery_stats(df: pd.DataFrame, names=None) -> pd.DataFrame:
    """Per quantity: how well the posterior medians recover the truths (``status == ok`` rows).

    Columns: ``quantity``, ``unit`` ("dex" for log quantities, else "native"), ``n``,
    ``bias`` (median of median − truth), ``nmad`` (1.4826 × median absolute deviation of
    median − truth), ``rmse``, ``mean_abs_z`` (mean of |median − truth| / σ with
    σ = (p84 − p16)/2; rows with σ = 0, i.e. point estimates, are left out),
    ``cov68`` (fraction of truths inside [p16, p84]), ``norm_err`` (median of
    |median − truth| / std of the truths), ``n_failed``.
    """
    names = recovered_quantities(df) if names is None else names
    ok = _ok(df)
    rows = []
    for n in names:
        log = is_log_quantity(n)
        t, m, lo, hi = _values(df[ok], n, log)
        good = np.isfinite(t) & np.isfinite(m)
        d = (m - t)[good]
        sig = 0.5 * (hi - lo)[good]
        zmask = np.isfinite(sig) & (sig > 0)
        inside = (t[good] >= lo[good]) & (t[good] <= hi[good])
        sd = np.nanstd(t[good]) if good.sum() > 1 else np.nan
        rows.append({
            "quantity": n,
            "unit": "dex" if log else "native",
            "n": int(good.sum()),
            "bias": float(np.median(d)) if d.size else np.nan,
            "nmad": float(1.4826 * np.median(np.abs(d - np.median(d)))) if d.size else np.nan,
            "rmse": float(np.sqrt(np.mean(d**2))) if d.size else np.nan,
            "mean_abs_z": float(np.mean(np.abs(d[zmask] / sig[zmask]))) if zmask.any() else np.nan,
            "cov68": float(np.mean(inside)) if d.size else np.nan,
            "norm_err": float(np.median(np.abs(d)) / sd) if d.size and sd and sd > 0 else np.nan,
            "n_failed": int((~ok).sum()),
        })
    return pd.DataFrame(rows)


def _fmt(v, nd=2):
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.{nd}g}" if abs(v) >= 0.01 or v == 0 else f"{v:.1e}"


def plot_recovery(df: pd.DataFrame, path, backend: str = "", names=None, ncols: int = 4,
                  pdf: bool = True) -> list[str]:
    """Truth vs posterior median (16–84% error bars) for every parameter and derived quantity.

    Parameters
    ----------
    df : one backend's batch table
    backend : its name (title, colour)
    names : quantities (default: every ``<name>_median`` with a ``true_<name>`` column)

    Each panel gives bias, NMAD scatter and mean |z| (see :func:`recovery_stats`); SFRs and
    line luminosities are on log axes (statistics in dex). Failed fits are grey crosses at
    their medians (not in the statistics).
    """
    names = recovered_quantities(df) if names is None else list(names)
    stats = recovery_stats(df, names).set_index("quantity") if names else None
    ok = _ok(df)
    color = backend_color(backend)
    with figure_style():
        if not names:
            fig, ax = plt.subplots(figsize=(6, 3))
            note(ax, f"{backend_label(backend)}: no recoverable quantity in the table")
            return save_figure(fig, path, pdf=pdf)
        nrows = math.ceil(len(names) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.2 * nrows + 0.6), squeeze=False)
        for k, name in enumerate(names):
            ax = axes.flat[k]
            log = is_log_quantity(name)
            t = df[f"true_{name}"].to_numpy(float)
            m = df[f"{name}_median"].to_numpy(float)
            lo = df[f"{name}_p16"].to_numpy(float)
            hi = df[f"{name}_p84"].to_numpy(float)
            sel = ok & np.isfinite(t) & np.isfinite(m)
            if log:
                sel &= (t > 0) & (m > 0)
            yerr = np.vstack([np.clip(m - lo, 0, None), np.clip(hi - m, 0, None)])[:, sel]
            yerr = np.nan_to_num(yerr)
            if log:
                yerr[0] = np.minimum(yerr[0], 0.999 * m[sel])  # keep bars positive on log axes
            ax.errorbar(t[sel], m[sel], yerr=yerr, fmt="o", ms=3, color=color, ecolor=color, elinewidth=0.6,
                        alpha=0.75, capsize=0)
            bad = ~ok & np.isfinite(t) & np.isfinite(m)
            if bad.any():
                ax.plot(t[bad], m[bad], "x", color="0.5", ms=4, label="failed fit")
            vals = np.concatenate([t[sel], m[sel]]) if sel.any() else np.array([0.0, 1.0])
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
                vals = vals[vals > 0] if (vals > 0).any() else np.array([1e-3, 1.0])
                a, b = vals.min() / 2, vals.max() * 2
            else:
                span = np.ptp(vals) or 1.0
                a, b = vals.min() - 0.08 * span, vals.max() + 0.08 * span
            ax.plot([a, b], [a, b], color="0.3", lw=0.8, ls="--", zorder=0)
            ax.set_xlim(a, b)
            ax.set_ylim(a, b)
            ax.set_title(label(name), fontsize=10)
            s = stats.loc[name]
            unit = " dex" if log else ""
            ax.text(0.03, 0.97, f"bias {_fmt(s['bias'])}{unit}\nNMAD {_fmt(s['nmad'])}{unit}\n"
                    f"⟨|z|⟩ {_fmt(s['mean_abs_z'])}", transform=ax.transAxes, ha="left", va="top", fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.8", "alpha": 0.85})
            if k % ncols == 0:
                ax.set_ylabel("posterior median")
            if k >= len(names) - ncols:
                ax.set_xlabel("true value")
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        n_ok, n_all = int(ok.sum()), len(df)
        fig.suptitle(f"{backend_label(backend)}: recovery across the catalogue "
                     f"({n_ok} of {n_all} fits ok; error bars 16–84%)", fontsize=12)
        fig.tight_layout()
        return save_figure(fig, path, pdf=pdf)
