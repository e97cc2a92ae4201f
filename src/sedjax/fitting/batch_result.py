"""``BatchResult``: a batch of fits column by column, with its one-file HDF5 persistence.

Every array has a leading galaxy axis; :meth:`BatchResult.galaxy` gives one galaxy as a
:class:`~sedjax.inference.FitResult`; :meth:`BatchResult.save_hdf5` documents the file
layout (``sedjax-batch-v1``); :meth:`BatchResult.concatenate` joins chunk files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import h5py
import numpy as np

from sedjax.inference.result import FitResult
from sedjax.io.atomic import atomic_output
from sedjax.io.jsonio import json_default

FORMAT = "sedjax-batch-v1"


@dataclass
class BatchResult:
    """A batch of fits, column by column (every array has a leading galaxy axis).

    samples / derived: ``{name: (n, n_samples)}`` physical draws / derived quantities;
    diagnostics: ``{name: (n, ...)}``; status, reason: ``(n,)`` str; run_s: ``(n,)``
    per-galaxy share of its chunk's run time; chunk: ``(n,)`` chunk index;
    truth: ``{name: (n,)}`` (optional); chunks: one dict of timings per chunk;
    meta: JSON-serialisable run metadata.
    """

    backend: str
    ids: np.ndarray
    redshift: np.ndarray
    samples: dict
    derived: dict
    diagnostics: dict
    status: np.ndarray
    reason: np.ndarray
    run_s: np.ndarray
    chunk: np.ndarray
    compile_s: float = 0.0
    truth: dict = field(default_factory=dict)
    chunks: list = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.ids)

    @property
    def n_failed(self) -> int:
        return int(np.sum(self.status != "ok"))

    def throughput(self) -> dict:
        """Galaxies per second excluding compilation, compile time, wall time."""
        n = int(sum(c["n_galaxies"] for c in self.chunks))
        run = float(sum(c["run_s"] for c in self.chunks))
        conv = float(sum(c["convert_s"] for c in self.chunks))
        wall = float(sum(c["wall_s"] for c in self.chunks))
        return {
            "n_galaxies": n,
            "n_chunks": len(self.chunks),
            "compile_s": float(sum(c["compile_s"] for c in self.chunks)),
            "run_s": run,
            "convert_s": conv,
            "wall_s": wall,
            "gal_per_s": n / run if run > 0 else float("nan"),
            "gal_per_s_with_convert": n / (run + conv) if run + conv > 0 else float("nan"),
            "gal_per_s_wall": n / wall if wall > 0 else float("nan"),
        }

    # ---------------------------------------------------------- per galaxy
    def galaxy(self, i: int) -> FitResult:
        """Galaxy ``i`` as a :class:`FitResult` (the same content as ``fit`` returns)."""
        meta = dict(self.meta)
        meta.update(galaxy_id=_py(self.ids[i]), redshift=float(self.redshift[i]), batch_chunk=int(self.chunk[i]))
        if self.truth:
            meta["truth"] = {k: float(v[i]) for k, v in self.truth.items()}
        c = self.chunks[int(self.chunk[i])] if self.chunks else {}
        return FitResult(
            backend=self.backend,
            samples={k: v[i] for k, v in self.samples.items()},
            derived={k: v[i] for k, v in self.derived.items()},
            diagnostics={k: v[i] for k, v in self.diagnostics.items()},
            timings={
                "compile_s": float(self.compile_s),  # the batch program's (once for all chunks)
                "run_s": float(self.run_s[i]),  # this galaxy's share of its chunk's run
                "chunk_run_s": float(c.get("run_s", np.nan)),
            },
            status=str(self.status[i]),
            reason=str(self.reason[i]),
            meta=meta,
        )

    def to_fit_results(self) -> list[FitResult]:
        return [self.galaxy(i) for i in range(len(self))]

    # ---------------------------------------------------------------- HDF5
    def save_hdf5(self, path) -> None:
        """One HDF5 file for the whole batch, written atomically (temp file + rename).

        Layout::

            attrs: format="sedjax-batch-v1", backend, n_galaxies, compile_s,
                   param_names, derived_names (JSON lists), meta (JSON), throughput (JSON)
            ids (n,)              int64 (or UTF-8 strings)
            redshift (n,)         float64
            status, reason (n,)   UTF-8 strings ("ok" | "failed"; why)
            run_s (n,)            float64, the galaxy's share of its chunk's run time
            chunk (n,)            int64, index into /chunks
            samples/<param>       (n, n_samples) physical draws of every free parameter
            derived/<quantity>    (n, n_samples) derived quantities at the same draws
            diagnostics/<name>    (n, ...) the backend's diagnostics (leading galaxy axis)
            truth/<name>          (n,) true values when known (mock catalogues)
            chunks/<field>        (n_chunks,) index, n_galaxies, compile_s, run_s,
                                  convert_s, wall_s, gal_per_s
        """
        sdt = h5py.string_dtype()
        with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["backend"] = self.backend
            f.attrs["n_galaxies"] = len(self)
            f.attrs["compile_s"] = float(self.compile_s)
            f.attrs["param_names"] = json.dumps(list(self.samples))
            f.attrs["derived_names"] = json.dumps(list(self.derived))
            f.attrs["meta"] = json.dumps(self.meta, default=json_default)
            f.attrs["throughput"] = json.dumps(self.throughput(), default=json_default)
            ids = np.asarray(self.ids)
            if ids.dtype.kind in "iu":
                f.create_dataset("ids", data=ids.astype(np.int64))
            else:
                f.create_dataset("ids", data=np.asarray([str(x) for x in ids], dtype=object), dtype=sdt)
            f.create_dataset("redshift", data=np.asarray(self.redshift, np.float64))
            f.create_dataset("status", data=np.asarray(self.status, dtype=object), dtype=sdt)
            f.create_dataset("reason", data=np.asarray(self.reason, dtype=object), dtype=sdt)
            f.create_dataset("run_s", data=np.asarray(self.run_s, np.float64))
            f.create_dataset("chunk", data=np.asarray(self.chunk, np.int64))
            for gname, content in (
                ("samples", self.samples),
                ("derived", self.derived),
                ("diagnostics", self.diagnostics),
                ("truth", self.truth),
            ):
                g = f.create_group(gname)
                for k, v in content.items():
                    g.create_dataset(k, data=np.asarray(v), compression="gzip" if np.ndim(v) > 1 else None)
            g = f.create_group("chunks")
            fields = ("index", "n_galaxies", "compile_s", "run_s", "convert_s", "wall_s", "gal_per_s")
            for k in fields:
                g.create_dataset(k, data=np.asarray([c[k] for c in self.chunks], dtype=np.float64 if k not in ("index", "n_galaxies") else np.int64))

    @classmethod
    def load_hdf5(cls, path) -> "BatchResult":
        def strings(ds):
            return np.asarray([s.decode() if isinstance(s, bytes) else str(s) for s in ds[()]], dtype=object)

        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} file (format={f.attrs.get('format')!r})")
            ids = f["ids"]
            ids = ids[()] if ids.dtype.kind in "iu" else strings(ids)
            read = lambda g: {k: ds[()] for k, ds in f[g].items()}  # noqa: E731
            names = json.loads(f.attrs["param_names"])
            dnames = json.loads(f.attrs["derived_names"])
            samples, derived = read("samples"), read("derived")
            ch = read("chunks")
            n_ch = len(ch.get("index", []))
            chunks = [{k: (int(v[j]) if k in ("index", "n_galaxies") else float(v[j])) for k, v in ch.items()} for j in range(n_ch)]
            return cls(
                backend=str(f.attrs["backend"]),
                ids=ids,
                redshift=f["redshift"][()],
                samples={k: samples[k] for k in names},
                derived={k: derived[k] for k in dnames},
                diagnostics=read("diagnostics"),
                status=strings(f["status"]),
                reason=strings(f["reason"]),
                run_s=f["run_s"][()],
                chunk=f["chunk"][()],
                compile_s=float(f.attrs["compile_s"]),
                truth=read("truth"),
                chunks=chunks,
                meta=json.loads(f.attrs["meta"]),
            )

    @classmethod
    def concatenate(cls, parts: Sequence["BatchResult"]) -> "BatchResult":
        """Join batches (e.g. the chunk files of one backend) in order; chunk indices are
        renumbered into the joined ``chunks`` list."""
        if not parts:
            raise ValueError("nothing to concatenate")
        chunks, chunk_idx, offset = [], [], 0
        for p in parts:
            chunks.extend(dict(c, index=offset + j) for j, c in enumerate(p.chunks))
            chunk_idx.append(np.asarray(p.chunk) + offset)
            offset += len(p.chunks)
        cat = lambda d: {k: np.concatenate([np.asarray(getattr(p, d)[k]) for p in parts]) for k in getattr(parts[0], d)}  # noqa: E731
        return cls(
            backend=parts[0].backend,
            ids=np.concatenate([np.asarray(p.ids) for p in parts]),
            redshift=np.concatenate([p.redshift for p in parts]),
            samples=cat("samples"),
            derived=cat("derived"),
            diagnostics=cat("diagnostics"),
            status=np.concatenate([p.status for p in parts]),
            reason=np.concatenate([p.reason for p in parts]),
            run_s=np.concatenate([p.run_s for p in parts]),
            chunk=np.concatenate(chunk_idx),
            compile_s=float(sum(p.compile_s for p in parts)),
            truth=cat("truth") if all(p.truth for p in parts) else {},
            chunks=chunks,
            meta=parts[0].meta,
        )


def _py(x):
    return x.item() if isinstance(x, np.generic) else x
