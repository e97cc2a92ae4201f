"""Named sets of posterior draws in one HDF5 file (written atomically; read without JAX).

Layout: one group per set (``/<set>``, e.g. a backend name or ``bagpipes``), one
sub-group per kind of quantity (``samples``: fitted parameters, ``derived``: derived
quantities), one 1-D float dataset per quantity; the file's ``meta`` attribute holds a
JSON document (e.g. the truth the data were drawn from). Sets may differ in their number
of draws.
"""

from __future__ import annotations

import json
import os

import h5py
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.io.jsonio import to_jsonable


def write_sample_sets(path: str | os.PathLike, sets: dict, meta: dict | None = None) -> None:
    """Write ``{set: {kind: {quantity: (n,) array}}}`` and ``meta`` to ``path`` (atomic).

    Raises ``ValueError`` when a quantity is not one-dimensional.
    """
    with atomic_output(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["meta"] = json.dumps(to_jsonable(meta or {}))
        for name, kinds in sets.items():
            g = f.create_group(str(name))
            for kind, quantities in kinds.items():
                k = g.create_group(str(kind))
                for q, v in quantities.items():
                    a = np.asarray(v, dtype=np.float64)
                    if a.ndim != 1:
                        raise ValueError(f"{name}/{kind}/{q}: draws must be one-dimensional, got shape {a.shape}")
                    k.create_dataset(str(q), data=a)


def read_sample_sets(path: str | os.PathLike) -> tuple[dict, dict]:
    """``({set: {kind: {quantity: array}}}, meta)`` from a :func:`write_sample_sets` file."""
    with h5py.File(path, "r") as f:
        meta = json.loads(f.attrs.get("meta", "{}"))
        sets = {name: {kind: {q: np.asarray(ds[()]) for q, ds in g[kind].items()} for kind in g}
                for name, g in f.items()}
    return sets, meta
