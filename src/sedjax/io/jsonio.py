"""JSON for results and benchmarks: one conversion of NumPy/JAX values, one atomic writer.

* :func:`to_jsonable` -- strict plain-Python copy (non-finite floats become ``null``), for
  benchmark and throughput records written with :func:`write_json`;
* :func:`json_default` -- the ``default=`` hook of ``json.dumps`` for metadata stored in
  HDF5 attributes (arrays become lists, dataclasses dicts; NaN stays NaN).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from sedjax.io.atomic import atomic_output


def to_jsonable(obj):
    """Plain-Python copy of ``obj`` (numpy/JAX scalars and arrays; non-finite floats -> None)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (str, bool)) or obj is None:
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (np.ndarray, np.generic, float)) or hasattr(obj, "__array__"):
        a = np.asarray(obj)
        if a.dtype.kind in "biu":
            return a.tolist()
        if a.dtype.kind in "fc":
            a = a.real.astype(float)
            if a.ndim == 0:
                v = float(a)
                return v if math.isfinite(v) else None
            return [to_jsonable(v) for v in a]
        return a.tolist()
    return str(obj)


def write_json(path, obj) -> None:
    """Write ``obj`` as JSON atomically (temporary file in the same directory + os.replace)."""
    with atomic_output(path) as tmp, open(tmp, "w") as fh:
        json.dump(to_jsonable(obj), fh, indent=2, allow_nan=False)
        fh.write("\n")


def json_default(o):
    """``json.dumps(..., default=json_default)``: NumPy/JAX values and dataclasses."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "__array__"):
        return np.asarray(o).tolist()
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    return str(o)
