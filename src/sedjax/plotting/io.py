"""Loading result files for the figure and report scripts (no computation)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def load_json(path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def load_by_device(paths) -> dict:
    """``{device: dict}`` from ``results/benchmarks/{device}/<name>.json`` files (device
    from the JSON's ``device`` key, else the parent directory)."""
    out = {}
    for p in paths:
        d = load_json(p)
        out[str(d.get("device") or Path(p).parent.name)] = d
    return out


def backend_of(path) -> str:
    """``results/fits/batch/{backend}.parquet`` / ``{backend}_throughput.json`` -> backend."""
    stem = Path(path).stem
    return stem[: -len("_throughput")] if stem.endswith("_throughput") else stem


def load_batch(parquets, throughputs=()) -> tuple[dict, dict]:
    """``({backend: DataFrame}, {backend: throughput dict})`` from the batch outputs."""
    batch = {backend_of(p): pd.read_parquet(p) for p in parquets}
    tp = {backend_of(p): load_json(p) for p in throughputs}
    return batch, tp
