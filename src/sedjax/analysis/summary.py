"""Tables of fit results: per-galaxy summary rows with truths joined."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sedjax.io.atomic import atomic_output
from sedjax.inference import FitResult


def fit_result_row(res: FitResult) -> dict:
    """``summary_row`` plus galaxy id, per-sample timing and ``true_<name>`` columns."""
    row = res.summary_row()
    row["id"] = res.meta.get("galaxy_id")
    z = res.meta.get("redshift")
    row["redshift"] = np.nan if z is None else z  # None: a free redshift (its draws are in the samples)
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
    with atomic_output(path) as tmp:
        df.to_parquet(tmp, index=False)
