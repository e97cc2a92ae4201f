"""Figures and the report section for a real (file) catalogue: no truths, so the checks are
the data's own — stellar mass vs SFR and the per-band residual distributions.

:func:`band_offsets` summarises the residuals of :func:`sedjax.analysis.residuals.catalogue_residuals`
per backend and band; :func:`plot_catalogue` draws one backend's catalogue figure;
:func:`real_data_section` is the report's section (with why recovery and calibration are
absent). Imports no JAX.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sedjax.plotting.style import backend_color, backend_label, figure_style, save_figure

NO_TRUTHS_NOTE = (
    "The catalogue is real photometry (catalog.source: file): it has no true parameters, so the "
    "parameter-recovery, coverage and SBC-rank checks (rules plot_recovery, calibration, plot_calibration, "
    "plot_backend_comparison, grad_field) are not scheduled. Run the default (mock) workflow for them. "
    "Here the checks are the data's own: the residuals of every band in units of its error."
)


def band_offsets(resid: pd.DataFrame) -> pd.DataFrame:
    """Per backend and band: galaxies ``n``, median and NMAD of the residual [σ], and the median
    ``−2.5 log10(f_obs / f_pred)`` [mag] (a zero-point-like offset)."""
    out = []
    for (backend, band), d in resid.groupby(["backend", "band"], sort=False):
        r = d["resid_sigma"].to_numpy(float)
        r = r[np.isfinite(r)]
        with np.errstate(all="ignore"):
            dmag = -2.5 * np.log10(d["flux_maggies"].to_numpy(float) / d["pred_p50"].to_numpy(float))
        dmag = dmag[np.isfinite(dmag)]
        med = float(np.median(r)) if r.size else np.nan
        out.append({"backend": backend, "band": band, "n": int(r.size), "median_sigma": med,
                    "nmad_sigma": float(1.4826 * np.median(np.abs(r - med))) if r.size else np.nan,
                    "median_dmag": float(np.median(dmag)) if dmag.size else np.nan})
    return pd.DataFrame(out, columns=["backend", "band", "n", "median_sigma", "nmad_sigma", "median_dmag"])


def _log_col(df, col):
    v = df[col].to_numpy(float) if col in df else np.full(len(df), np.nan)
    with np.errstate(all="ignore"):
        return np.log10(np.where(v > 0, v, np.nan))


def plot_catalogue(batch: pd.DataFrame, resid: pd.DataFrame, path, backend: str, pdf: bool = True) -> list[str]:
    """Left: surviving stellar mass vs SFR over the last 100 Myr (posterior medians, 16–84%);
    right: each band's residuals (f_obs − f_pred,50)/σ across the catalogue, median marked.

    ``batch``: one backend's merged table (``results/fits/batch/{backend}.parquet``);
    ``resid``: :func:`~sedjax.analysis.residuals.catalogue_residuals` rows of that backend.
    """
    ok = batch[batch["status"] == "ok"] if "status" in batch else batch
    mass = "log_mass_surviving" if "log_mass_surviving_median" in ok and np.isfinite(
        ok["log_mass_surviving_median"]).any() else "log_mass_formed"
    x = ok[f"{mass}_median"].to_numpy(float)
    xl, xh = x - ok[f"{mass}_p16"].to_numpy(float), ok[f"{mass}_p84"].to_numpy(float) - x
    y = _log_col(ok, "sfr_100myr_median")
    yl, yh = y - _log_col(ok, "sfr_100myr_p16"), _log_col(ok, "sfr_100myr_p84") - y
    color = backend_color(backend)
    bands = list(dict.fromkeys(resid["band"]))
    with figure_style():
        fig, (ax, axr) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.4]})
        ax.errorbar(x, y, xerr=[np.clip(np.nan_to_num(xl), 0, None), np.clip(np.nan_to_num(xh), 0, None)],
                    yerr=[np.clip(np.nan_to_num(yl), 0, None), np.clip(np.nan_to_num(yh), 0, None)],
                    fmt="o", color=color, mfc="white", ms=5, lw=0.8, capsize=0)
        ax.set_xlabel(r"$\log_{10} M_\star$ [M$_\odot$]" + (" (surviving)" if mass == "log_mass_surviving" else " (formed)"))
        ax.set_ylabel(r"$\log_{10}$ SFR$_{100\,\mathrm{Myr}}$ [M$_\odot$/yr]")
        n_bad = int(len(batch) - len(ok))
        ax.set_title(f"{backend_label(backend)}: {len(ok)} galaxies" + (f" ({n_bad} failed, not shown)" if n_bad else ""))
        data = [resid.loc[resid["band"] == b, "resid_sigma"].to_numpy(float) for b in bands]
        data = [d[np.isfinite(d)] for d in data]
        pos = np.arange(len(bands))
        rng = np.random.default_rng(0)
        for i, d in enumerate(data):
            if d.size:
                axr.scatter(i + rng.uniform(-0.18, 0.18, d.size), np.clip(d, -8, 8), s=10, color=color, alpha=0.6, lw=0)
                axr.plot([i - 0.3, i + 0.3], [np.median(d)] * 2, color="k", lw=2)
        keep = [i for i, d in enumerate(data) if d.size]
        if keep:
            axr.boxplot([data[i] for i in keep], positions=pos[keep], widths=0.5, showfliers=False,
                        medianprops={"color": "k"}, whiskerprops={"color": "0.5"}, boxprops={"color": "0.5"},
                        capprops={"color": "0.5"})
        axr.axhline(0, color="0.3", lw=0.8)
        axr.axhspan(-1, 1, color="0.5", alpha=0.12, lw=0)
        axr.set_xticks(pos, [b.replace("sdss_", "") for b in bands], rotation=30)
        axr.set_ylabel(r"$(f_\mathrm{obs} - \hat f_{50})/\sigma$ (clipped at ±8)")
        axr.set_title("Residual per band across the catalogue (black: median)")
        fig.tight_layout()
        return save_figure(fig, path, pdf=pdf)


def _rel(path, out_dir) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir)).replace(os.sep, "/")


def real_data_section(out_path, resid_by_backend: dict, figures=(), catalog: str = "") -> dict:
    """The report's section for a file catalogue: the note on truths, a per-band residual table
    per backend and the catalogue figures (``catalogue_<backend>.png``)."""
    out_dir = os.path.dirname(os.path.abspath(out_path))
    tables = []
    for backend, resid in resid_by_backend.items():
        off = band_offsets(resid)
        rows = [[r.band, r.n, f"{r.median_sigma:+.2f}", f"{r.nmad_sigma:.2f}", f"{r.median_dmag:+.3f}"]
                for r in off.itertuples()]
        n_gal = resid["id"].nunique() if len(resid) else 0
        tables.append({"title": f"Per-band residuals: {backend_label(backend)} ({n_gal} galaxies)",
                       "columns": ["band", "galaxies", "median (f − f̂)/σ", "NMAD [σ]", "median Δm (obs − model) [mag]"],
                       "rows": [[str(c) for c in row] for row in rows],
                       "note": "A band whose median residual is far from 0 across the catalogue points to a zero point, "
                               "aperture or filter mismatch rather than to the galaxies."})
    figs = [(Path(f).stem, _rel(f, out_dir)) for f in figures if Path(f).name.startswith("catalogue_")]
    text = [f"Catalogue: {catalog}." if catalog else "", NO_TRUTHS_NOTE]
    return {"title": "Real data: residuals and the catalogue", "text": [t for t in text if t], "tables": tables,
            "figures": figs}
