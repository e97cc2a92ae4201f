"""Calibration of batched fits: per-galaxy summaries, truth ranks, coverage and SBC statistics.

:func:`summary_table` turns a :class:`~sedjax.fitting.batch_result.BatchResult` into one row
per galaxy (percentiles, the truth's normalised rank :func:`truth_rank`, diagnostics);
:func:`calibration_tables` turns those tables (one per backend) into coverage of the
68% / 95% intervals and rank-uniformity tests (simulation-based calibration, Talts et al. 2018).
NumPy / pandas / SciPy only.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

PERCENTILES = {"p2_5": 2.5, "p16": 16.0, "median": 50.0, "p84": 84.0, "p97_5": 97.5}


def truth_rank(samples, truth):
    """Normalised rank of each truth among its galaxy's finite draws, in [0, 1].

    ``(#{draws < truth} + ½ #{draws == truth}) / #{finite draws}``: the posterior CDF
    at the truth, uniform over galaxies when the posterior is calibrated (SBC).
    ``samples`` (n, n_samples), ``truth`` (n,); NaN where the truth or every draw is
    missing.
    """
    s = np.asarray(samples, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)[:, None]
    finite = np.isfinite(s)
    n = finite.sum(axis=1)
    less = np.sum(finite & (s < t), axis=1)
    equal = np.sum(finite & (s == t), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (less + 0.5 * equal) / n
    return np.where((n > 0) & np.isfinite(t[:, 0]), r, np.nan)


def summary_table(result, truths=None):
    """One row per galaxy of a :class:`~sedjax.fitting.batch_result.BatchResult`: percentiles
    (2.5, 16, 50, 84, 97.5) of every parameter and derived quantity, the truth's
    normalised rank, scalar diagnostics, status, times.

    ``truths``: a DataFrame with ``id`` and ``true_<name>`` columns (joined on id), or
    None to use ``result.truth``. Columns: ``id, redshift, backend, status, reason,
    chunk, compile_s, run_s, n_samples, <name>_{p2_5,p16,median,p84,p97_5,rank},
    diag_<key>, true_<name>``.
    """
    import pandas as pd

    n = len(result)
    chunk_compile = np.asarray([c["compile_s"] for c in result.chunks]) if result.chunks else np.zeros(1)
    cols: dict[str, Any] = {
        "id": np.asarray(result.ids),
        "redshift": np.asarray(result.redshift, np.float64),
        "backend": np.full(n, result.backend, dtype=object),
        "status": np.asarray(result.status, dtype=object),
        "reason": np.asarray(result.reason, dtype=object),
        "chunk": np.asarray(result.chunk, np.int64),
        "compile_s": chunk_compile[np.asarray(result.chunk, np.int64)] if result.chunks else np.full(n, result.compile_s),
        "run_s": np.asarray(result.run_s, np.float64),
    }
    first = next(iter(result.samples.values()))
    cols["n_samples"] = np.sum(np.isfinite(first), axis=1)
    if truths is None:
        tdf = pd.DataFrame({"id": np.asarray(result.ids), **{f"true_{k}": v for k, v in result.truth.items()}})
    else:
        tdf = truths[["id"] + [c for c in truths.columns if c.startswith("true_")]]
    tdf = pd.DataFrame({"id": np.asarray(result.ids)}).merge(tdf, on="id", how="left")
    for content in (result.samples, result.derived):
        for k, v in content.items():
            a = np.asarray(v, dtype=np.float64)
            ok = np.any(np.isfinite(a), axis=1)
            q = np.full((len(PERCENTILES), n), np.nan)
            if ok.any():
                q[:, ok] = np.nanpercentile(a[ok], list(PERCENTILES.values()), axis=1)
            for j, name in enumerate(PERCENTILES):
                cols[f"{k}_{name}"] = q[j]
            tc = f"true_{k}"
            cols[f"{k}_rank"] = truth_rank(a, tdf[tc].to_numpy(np.float64)) if tc in tdf else np.full(n, np.nan)
    for k, v in result.diagnostics.items():
        a = np.asarray(v)
        if a.ndim == 1 and a.dtype.kind in "biuf":
            cols[f"diag_{k}"] = a
    df = pd.DataFrame(cols)
    for c in tdf.columns:
        if c != "id":
            df[c] = tdf[c].to_numpy()
    return df


def calibration_tables(tables: Mapping[str, Any], names: Sequence[str] | None = None, n_bins: int = 10):
    """Coverage and SBC rank statistics from :func:`summary_table` outputs per backend.

    For each backend and quantity with a truth column, over the galaxies with status
    "ok" and a finite rank: fraction of truths inside the central 68% (p16..p84) and 95%
    (p2.5..p97.5) sample intervals, the rank histogram (``n_bins`` bins on [0, 1]) with a
    chi² test and a Kolmogorov-Smirnov test of uniformity, the number of galaxies used.

    Returns ``(coverage, ranks)`` DataFrames: coverage one row per (backend, parameter)
    with ``hist`` (list) and ``hist_<j>`` columns; ranks one row per (backend,
    parameter, galaxy).
    """
    import pandas as pd
    from scipy import stats

    rows, rank_rows = [], []
    for backend, df in tables.items():
        quantities = names or [c[: -len("_rank")] for c in df.columns if c.endswith("_rank")]
        ok = (df["status"] == "ok").to_numpy()
        point = bool(np.nanmax(df["n_samples"].to_numpy(), initial=0) <= 1) if "n_samples" in df else False
        for q in quantities:
            if f"true_{q}" not in df or f"{q}_rank" not in df:
                continue
            t = df[f"true_{q}"].to_numpy(np.float64)
            r = df[f"{q}_rank"].to_numpy(np.float64)
            use = ok & np.isfinite(t) & np.isfinite(r)
            n = int(use.sum())
            in68 = (df[f"{q}_p16"].to_numpy() <= t) & (t <= df[f"{q}_p84"].to_numpy())
            in95 = (df[f"{q}_p2_5"].to_numpy() <= t) & (t <= df[f"{q}_p97_5"].to_numpy())
            counts = np.histogram(r[use], bins=n_bins, range=(0.0, 1.0))[0] if n else np.zeros(n_bins, int)
            if n >= 2:
                chi2, chi2_p = stats.chisquare(counts)
                ks = stats.kstest(r[use], "uniform")
                ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
            else:
                chi2 = chi2_p = ks_stat = ks_p = np.nan
            cov68 = float(in68[use].mean()) if n else np.nan
            cov95 = float(in95[use].mean()) if n else np.nan
            row = {
                "backend": backend,
                "parameter": q,
                "n_galaxies": n,
                "n_failed": int((~ok).sum()),
                "point_estimate": point,
                "coverage_68": cov68,
                "coverage_95": cov95,
                "coverage_68_err": float(np.sqrt(0.68 * 0.32 / n)) if n else np.nan,
                "coverage_95_err": float(np.sqrt(0.95 * 0.05 / n)) if n else np.nan,
                "rank_mean": float(np.mean(r[use])) if n else np.nan,
                "chi2": float(chi2),
                "chi2_dof": n_bins - 1,
                "chi2_pvalue": float(chi2_p),
                "ks_stat": ks_stat,
                "ks_pvalue": ks_p,
                "hist": counts.astype(np.int64).tolist(),
            }
            row.update({f"hist_{j}": int(c) for j, c in enumerate(counts)})
            rows.append(row)
            ids = df["id"].to_numpy()
            for gid, rr, uu in zip(ids, r, use):
                if uu:
                    rank_rows.append({"backend": backend, "parameter": q, "id": gid, "rank": float(rr)})
    cov = pd.DataFrame(rows)
    ranks = pd.DataFrame(rank_rows, columns=["backend", "parameter", "id", "rank"])
    return cov, ranks
