"""Tables of fit results: per-galaxy summary rows with truths joined."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pandas as pd

from .inference import FitResult


def fit_result_row(res: FitResult) -> dict:
    """``summary_row`` plus galaxy id, per-sample timing and ``true_<name>`` columns."""
    row = res.summary_row()
    row["id"] = res.meta.get("galaxy_id")
    row["redshift"] = res.meta.get("redshift", np.nan)
    for k, v in (res.meta.get("truth") or {}).items():
        row[f"true_{k}"] = v
    return row


def fit_results_table(paths) -> pd.DataFrame:
    """DataFrame with one row per FitResult file (sorted by backend, id)."""
    rows = [fit_result_row(FitResult.load_hdf5(p)) for p in paths]
    df = pd.DataFrame(rows)
    return df.sort_values(["backend", "id"]).reset_index(drop=True) if len(df) else df


def write_table(df: pd.DataFrame, path) -> None:
    """Atomic Parquet write."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp_", suffix=".parquet")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
