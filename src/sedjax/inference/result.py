"""FitResult: one galaxy's fit, with atomic HDF5 persistence and a summary row."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import h5py
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.io.jsonio import json_default
from sedjax.inference.status import fit_status

_STATUSES = ("ok", "failed")


def _to_np(x):
    a = np.asarray(x)
    return a


@dataclass
class FitResult:
    """Result of fitting one galaxy with one backend.

    samples: ``{param: (n,)}`` posterior draws (physical or u space: the caller
      decides and may record it in ``meta``).
    derived: ``{quantity: (n,)}`` derived quantities at the same draws.
    diagnostics: ``{name: array or scalar}``.
    timings: ``{"compile_s": float, "run_s": float}``.
    status: "ok" or "failed"; reason: why (or warnings).
    meta: JSON-serialisable metadata (galaxy id, opts, versions, ...).
    """

    backend: str
    samples: dict[str, np.ndarray]
    derived: dict[str, np.ndarray] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=lambda: {"compile_s": np.nan, "run_s": np.nan})
    status: str = "ok"
    reason: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, got {self.status!r}")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_raw(
        cls,
        backend: str,
        raw: Mapping[str, Any],
        param_names: Sequence[str],
        *,
        compile_s: float = np.nan,
        run_s: float = np.nan,
        derived: Mapping[str, Any] | None = None,
        samples: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
        **status_kwargs,
    ) -> "FitResult":
        """Build from one galaxy's raw backend dict.

        ``samples`` defaults to the columns of ``raw["samples"]`` named by
        ``param_names`` (u space); pass physical-space ``samples`` to override.
        Status and reason come from :func:`sedjax.inference.status.fit_status` (the raw
        output, then the physical ``samples`` when given).
        """
        u = np.asarray(raw["samples"])
        if u.ndim != 2 or u.shape[1] != len(param_names):
            raise ValueError(f"raw samples {u.shape} do not match {len(param_names)} names")
        diags = {k: np.asarray(v) for k, v in raw.items() if k != "samples"}
        samples = None if samples is None else dict(samples)
        status, reason = fit_status(backend, diags, u, samples, **status_kwargs)
        if samples is None:
            samples = {p: u[:, i] for i, p in enumerate(param_names)}
        return cls(
            backend=backend,
            samples={k: np.asarray(v) for k, v in samples.items()},
            derived={k: np.asarray(v) for k, v in (derived or {}).items()},
            diagnostics=diags,
            timings={"compile_s": float(compile_s), "run_s": float(run_s)},
            status=status,
            reason=reason,
            meta=dict(meta or {}),
        )

    # ------------------------------------------------------------------- HDF5
    def save_hdf5(self, path: str | os.PathLike) -> None:
        """Write atomically (temp file in the same directory + ``os.replace``)."""
        with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["backend"] = self.backend
            f.attrs["status"] = self.status
            f.attrs["reason"] = self.reason
            f.attrs["compile_s"] = float(self.timings.get("compile_s", np.nan))
            f.attrs["run_s"] = float(self.timings.get("run_s", np.nan))
            f.attrs["timings"] = json.dumps({k: float(v) for k, v in self.timings.items()})
            f.attrs["meta"] = json.dumps(self.meta, default=json_default)
            for gname, content in (
                ("samples", self.samples),
                ("derived", self.derived),
                ("diagnostics", self.diagnostics),
            ):
                g = f.create_group(gname)
                for k, v in content.items():
                    a = _to_np(v)
                    if a.dtype.kind in "US":
                        g.create_dataset(k, data=str(v), dtype=h5py.string_dtype())
                    else:
                        g.create_dataset(k, data=a)

    @classmethod
    def load_hdf5(cls, path: str | os.PathLike) -> "FitResult":
        def read_group(g):
            out = {}
            for k, ds in g.items():
                v = ds[()]
                if isinstance(v, bytes):
                    v = v.decode()
                out[k] = v
            return out

        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            timings = json.loads(attrs["timings"]) if "timings" in attrs else {
                "compile_s": float(attrs["compile_s"]),
                "run_s": float(attrs["run_s"]),
            }
            return cls(
                backend=str(attrs["backend"]),
                samples=read_group(f["samples"]),
                derived=read_group(f["derived"]),
                diagnostics=read_group(f["diagnostics"]),
                timings=timings,
                status=str(attrs["status"]),
                reason=str(attrs["reason"]),
                meta=json.loads(attrs["meta"]),
            )

    # ---------------------------------------------------------------- summary
    def summary_row(self) -> dict[str, Any]:
        """Flat dict: ``<name>_median/_p16/_p84`` per sample and derived quantity
        (NaN-ignoring percentiles), every scalar diagnostic (``diag_<key>``),
        backend, status, reason, compile_s, run_s, n_samples."""
        row: dict[str, Any] = {
            "backend": self.backend,
            "status": self.status,
            "reason": self.reason,
            "compile_s": float(self.timings.get("compile_s", np.nan)),
            "run_s": float(self.timings.get("run_s", np.nan)),
        }
        n = None
        for content in (self.samples, self.derived):
            for k, v in content.items():
                a = np.asarray(v, dtype=float).ravel()
                n = a.size if n is None else n
                if a.size == 0 or not np.any(np.isfinite(a)):
                    p16 = p50 = p84 = np.nan
                else:
                    p16, p50, p84 = np.nanpercentile(a, [16, 50, 84])
                row[f"{k}_median"] = float(p50)
                row[f"{k}_p16"] = float(p16)
                row[f"{k}_p84"] = float(p84)
        row["n_samples"] = 0 if n is None else int(n)
        for k, v in self.diagnostics.items():
            a = np.asarray(v)
            if a.size == 1 and a.dtype.kind in "biuf":
                x = a.reshape(()).item()
                row[f"diag_{k}"] = x
        return row
