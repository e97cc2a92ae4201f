"""``fit_batch``: fit a catalogue with one backend, vmapped over galaxies, chunk by chunk.

One compiled program per catalogue: inside a chunk every galaxy runs in lock-step under
``jax.vmap`` (``jit(vmap(bind(backend)))``, exactly the per-galaxy program of
:func:`sedjax.fitting.single.fit` with a leading galaxy axis); the program is compiled once (for
``chunk_size`` galaxies) and reused for every chunk. The last chunk is padded with copies
of its first galaxy so that shapes never change; the padding is dropped. The only
Python loop is over chunks.

Per galaxy
----------
* key: ``fold_in(PRNGKey(seed), galaxy_id)`` (as ``scripts/fit_single.py``), or given;
* data: flux, flux_err, band mask, redshift; the same validation as
  :func:`sedjax.inference.posterior.make_data` (unusable bands masked);
* fast-mode tables: when every redshift equals the model's fixed redshift the model's own
  tables are used (``tables=None``, as ``fit``); otherwise they are computed per galaxy
  inside the compiled chunk with ``jax.vmap(model.fast_tables)`` (galaxies at the fixed
  redshift get the model's own tables, bit for bit, as in ``fit``). A spec with a free
  redshift builds tables from the sampled redshift on the fly, as ``fit`` does.

Galaxy ``i`` of a batch equals ``fit(model, obs_i, backend, key_i, ...)`` to
floating-point round-off (vmap may reorder a reduction).

Results come back as a list of :class:`~sedjax.inference.FitResult` or, with
``columnar=True``, as one :class:`BatchResult` (arrays with a leading galaxy axis, HDF5
persistence in one file: see :meth:`BatchResult.save_hdf5` for the layout).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import h5py
import jax
import jax.numpy as jnp
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.inference import FitResult, assess_status, bind, make_opts
from sedjax.inference.posterior import make_target
from sedjax.io.jsonio import json_default
from sedjax.fitting.single import fit_info

FORMAT = "sedjax-batch-v1"


# --------------------------------------------------------------------- inputs
def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, Mapping):
            if n in obj and obj[n] is not None:
                return obj[n]
        elif getattr(obj, n, None) is not None:
            return getattr(obj, n)
    return default


def catalog_arrays(catalog, model) -> dict:
    """Validated per-galaxy arrays from a :class:`~sedjax.catalog.table.Catalog` or a mapping.

    Accepts ``flux``/``flux_maggies``, ``flux_err``/``flux_err_maggies`` (n, n_band),
    optional ``mask`` (n, n_band), ``redshift`` (n,) and ``ids`` (n,). Bands with a
    non-finite flux or a non-finite or non-positive error are masked (as ``make_data``).

    Returns ``{"ids", "flux", "flux_err", "mask", "redshift"}`` (NumPy; flux 0 and error
    1 where masked). Raises ``ValueError`` for wrong shapes or a galaxy with no usable band.
    """
    flux = np.asarray(_get(catalog, "flux", "flux_maggies"), dtype=np.float64)
    err = np.asarray(_get(catalog, "flux_err", "flux_err_maggies"), dtype=np.float64)
    n_band = len(model.bands)
    if flux.ndim != 2 or flux.shape[1] != n_band or err.shape != flux.shape:
        raise ValueError(
            f"flux and flux_err must have shape (n_galaxies, {n_band}) for bands {model.bands}; "
            f"got {flux.shape} and {err.shape}"
        )
    n = flux.shape[0]
    usable = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    mask = _get(catalog, "mask")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != flux.shape:
            raise ValueError(f"mask must have shape {flux.shape}, got {mask.shape}")
        usable &= mask
    ids = _get(catalog, "ids", "id")
    ids = np.arange(n) if ids is None else np.asarray(ids)
    if ids.shape != (n,):
        raise ValueError(f"ids must have shape ({n},), got {ids.shape}")
    bad = ~usable.any(axis=1)
    if bad.any():
        raise ValueError(f"galaxies with no usable band (every flux or error unusable): ids {ids[bad][:20].tolist()}")
    z = _get(catalog, "redshift")
    if z is None:
        if model.fixed_redshift is None:
            raise ValueError("the catalogue has no redshift and the model's redshift is not fixed")
        z = np.full(n, model.fixed_redshift)
    z = np.broadcast_to(np.asarray(z, dtype=np.float64), (n,)).copy()
    if not np.all(np.isfinite(z)):
        raise ValueError(f"non-finite redshift for ids {ids[~np.isfinite(z)][:20].tolist()}")
    return {
        "ids": ids,
        "flux": np.where(usable, flux, 0.0),
        "flux_err": np.where(usable, err, 1.0),
        "mask": usable,
        "redshift": z,
    }


def catalog_rows(cat, lo: int, hi: int) -> tuple[dict, dict]:
    """Rows ``[lo, hi)`` of a :class:`~sedjax.catalog.table.Catalog` as fit_batch input and truths.

    Returns ``(arrays, truth)``: ``arrays`` with ``ids, flux, flux_err, mask, redshift``
    (for :func:`fit_batch`), ``truth`` mapping each ``true_<name>`` column (fluxes
    excluded) to its values; empty for real data.
    """
    sl = slice(lo, hi)
    arrays = {
        "ids": cat.ids[sl],
        "flux": cat.flux_maggies[sl],
        "flux_err": cat.flux_err_maggies[sl],
        "mask": cat.mask[sl],
        "redshift": cat.redshift[sl],
    }
    truth = {
        c[5:]: cat.table[c].to_numpy()[sl]
        for c in cat.table.columns
        if c.startswith("true_") and not c.startswith("true_flux_")
    }
    return arrays, truth


def galaxy_keys(seed: int, ids) -> jax.Array:
    """``(n, 2)`` keys ``fold_in(PRNGKey(seed), id)``, one per integer galaxy id."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"seed-derived keys need integer galaxy ids, got dtype {ids.dtype}; pass keys")
    if ids.size and (ids.min() < 0 or ids.max() >= 2**32):
        raise ValueError("galaxy ids must be in [0, 2**32) to derive keys")
    base = jax.random.PRNGKey(seed)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(ids, jnp.uint32))


def needs_tables(model, redshift) -> bool:
    """True when per-galaxy fast tables are needed (some z differs from the fixed z)."""
    if model.fixed_redshift is None:
        return False  # redshift is a free parameter: tables follow the sampled z
    return bool(np.any(np.asarray(redshift, dtype=np.float64) != model.fixed_redshift))


# ------------------------------------------------------------------- programs
class BatchProgram:
    """The compiled chunk program (backend) and sample conversion (physical + derived).

    ``run(keys, flux, err, mask, z)`` takes arrays with a leading axis of exactly
    ``chunk_size`` and compiles on the first call only (``n_compiles`` counts).
    """

    def __init__(self, model, backend: str, chunk_size: int, mode="fast", sys_frac=0.0, options=None, tables=False):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.model = model
        self.backend = backend
        self.chunk_size = int(chunk_size)
        self.mode = mode
        self.sys_frac = float(sys_frac)
        self.opts = make_opts(backend, **(options or {}))
        self.tables = bool(tables)
        self.target = make_target(model, mode=mode, sys_frac=sys_frac)
        self.n_compiles = 0
        self._fit = None
        self._convert = None
        fn = bind(backend, self.target, self.opts)
        spec = model.spec
        use_tables = self.tables

        def chunk(keys, flux, err, mask, z):
            tabs = model.tables_for_batch(z) if use_tables else None
            data = {"flux": flux, "flux_err": err, "mask": mask, "redshift": z, "tables": tabs}
            return jax.vmap(fn)(keys, data)

        def one(u, z):
            params, _ = spec.from_unconstrained(u)
            if "redshift" not in spec.free_params:
                params = dict(params, redshift=z)
            return {k: params[k] for k in spec.free_params}, model.derived(params)

        def convert(u, z):  # u (G, S, d), z (G,)
            finite = jnp.all(jnp.isfinite(u), axis=-1)
            samples, derived = jax.vmap(jax.vmap(one, in_axes=(0, None)))(jnp.where(finite[..., None], u, 0.0), z)
            return samples, derived, finite

        self._chunk_fn = chunk
        self._convert_fn = convert

    def run(self, keys, flux, err, mask, z):
        """One chunk: ``(raw, samples, derived, times)`` as NumPy (leading galaxy axis).

        ``times``: compile_s (0 when already compiled), run_s (backend program up to
        ``block_until_ready``), convert_s (physical samples and derived quantities).
        """
        dt = self.model.dtype
        args = (keys, jnp.asarray(flux, dt), jnp.asarray(err, dt), jnp.asarray(mask, dt), jnp.asarray(z, dt))
        if args[1].shape[0] != self.chunk_size:
            raise ValueError(f"chunk arrays must have {self.chunk_size} galaxies, got {args[1].shape[0]}")
        compile_s = 0.0
        if self._fit is None:
            t0 = time.perf_counter()
            self._fit = jax.jit(self._chunk_fn).lower(*args).compile()
            compile_s += time.perf_counter() - t0
            self.n_compiles += 1
        t0 = time.perf_counter()
        raw = jax.block_until_ready(self._fit(*args))
        run_s = time.perf_counter() - t0
        u = raw["samples"]
        if self._convert is None:
            t0 = time.perf_counter()
            self._convert = jax.jit(self._convert_fn).lower(u, args[4]).compile()
            compile_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        samples, derived, finite = jax.device_get(self._convert(u, args[4]))
        raw = jax.device_get(raw)
        finite = np.asarray(finite)

        def nan(a):
            return np.where(finite, np.asarray(a, dtype=np.float64), np.nan)

        samples = {k: nan(v) for k, v in samples.items()}
        derived = {k: nan(v) for k, v in derived.items()}
        convert_s = time.perf_counter() - t0
        return raw, samples, derived, {"compile_s": compile_s, "run_s": run_s, "convert_s": convert_s}


def _status(backend, diags, u, samples) -> tuple[str, str]:
    """:meth:`FitResult.from_raw`'s status policy for one galaxy."""
    status, reason = assess_status(backend, diags, u)
    if status == "ok":
        status2, reason2 = assess_status(backend, {}, samples)
        if status2 == "failed":
            return status2, reason2
    return status, reason


# -------------------------------------------------------------------- results
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


# ------------------------------------------------------------------ fit_batch
def fit_batch(
    model,
    catalog,
    backend: str,
    keys=None,
    *,
    seed: int = 0,
    mode: str = "fast",
    sys_frac: float = 0.0,
    options: dict | None = None,
    chunk_size: int = 100,
    truth: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    log: Callable[[str], Any] | None = print,
    columnar: bool = False,
    program: BatchProgram | None = None,
):
    """Fit every galaxy of ``catalog`` with ``backend``, ``chunk_size`` galaxies per vmapped call.

    Parameters
    ----------
    model : SEDModel
    catalog : :class:`~sedjax.catalog.table.Catalog` or mapping (see :func:`catalog_arrays`)
    backend : one of ``sedjax.inference.BACKENDS``
    keys : (n,) PRNG keys, one per galaxy; default ``fold_in(PRNGKey(seed), id)``
    seed : seed of the default keys (the workflow's ``fit.seed``)
    mode, sys_frac, options : as :func:`sedjax.fitting.single.fit`
    chunk_size : galaxies per compiled call (the last chunk is padded)
    truth : optional ``{name: (n,)}`` true values, stored with the results
    meta : extra metadata stored with the results
    log : progress callback (one line per chunk), or None
    columnar : return a :class:`BatchResult` instead of a list of FitResults
    program : a :class:`BatchProgram` to reuse (its compiled program is reused when the
        chunk size, backend and table mode match)

    Returns
    -------
    list[FitResult] (galaxy order of the catalogue) or BatchResult.
    """
    arr = catalog_arrays(catalog, model)
    n = len(arr["ids"])
    if n == 0:
        raise ValueError("empty catalogue")
    if keys is None:
        keys = galaxy_keys(seed, arr["ids"])
    else:
        keys = jnp.stack([jnp.asarray(k) for k in keys]) if isinstance(keys, (list, tuple)) else jnp.asarray(keys)
        if keys.shape[0] != n:
            raise ValueError(f"{keys.shape[0]} keys for {n} galaxies")
    tables = needs_tables(model, arr["redshift"])
    chunk_size = int(chunk_size)
    if program is None:
        program = BatchProgram(model, backend, chunk_size, mode, sys_frac, options, tables)
    else:
        ok = (program.model is model and program.backend == backend and program.chunk_size == chunk_size
              and program.tables == tables and program.mode == mode and program.sys_frac == float(sys_frac)
              and program.opts == make_opts(backend, **(options or {})))
        if not ok:
            raise ValueError("program does not match model/backend/chunk_size/mode/sys_frac/options/tables")
    opts = program.opts
    n_chunks = math.ceil(n / chunk_size)
    if log is not None:
        log(f"{backend}: {n} galaxies in {n_chunks} chunk(s) of {chunk_size}"
            f"{' (per-galaxy fast tables)' if tables else ''}")

    parts: dict[str, list] = {"raw": [], "samples": [], "derived": []}
    status, reason, run_s, chunk_of, chunks = [], [], [], [], []
    n_failed = 0
    for c in range(n_chunks):
        t_wall = time.perf_counter()
        lo, hi = c * chunk_size, min((c + 1) * chunk_size, n)
        k = hi - lo
        idx = np.concatenate([np.arange(lo, hi), np.full(chunk_size - k, lo)])  # pad with copies of a real galaxy
        raw, samples, derived, t = program.run(
            keys[idx], arr["flux"][idx], arr["flux_err"][idx], arr["mask"][idx], arr["redshift"][idx]
        )
        raw = {kk: np.asarray(v)[:k] for kk, v in raw.items()}
        samples = {kk: v[:k] for kk, v in samples.items()}
        derived = {kk: v[:k] for kk, v in derived.items()}
        diags = {kk: v for kk, v in raw.items() if kk != "samples"}
        for g in range(k):  # status policy only (NumPy checks); the fits ran above
            s, r = _status(backend, {kk: v[g] for kk, v in diags.items()}, raw["samples"][g],
                           {kk: v[g] for kk, v in samples.items()})
            status.append(s)
            reason.append(r)
        n_failed += sum(1 for s in status[lo:hi] if s != "ok")
        parts["raw"].append(diags)
        parts["samples"].append(samples)
        parts["derived"].append(derived)
        run_s.extend([t["run_s"] / k] * k)
        chunk_of.extend([c] * k)
        wall = time.perf_counter() - t_wall
        chunks.append({
            "index": c, "n_galaxies": k, "compile_s": t["compile_s"], "run_s": t["run_s"],
            "convert_s": t["convert_s"], "wall_s": wall, "gal_per_s": k / t["run_s"] if t["run_s"] > 0 else float("nan"),
        })
        if log is not None:
            extra = f" (compile {t['compile_s']:.1f} s)" if t["compile_s"] > 0 else ""
            log(f"chunk {c + 1}/{n_chunks}: {k} galaxies, {k / max(t['run_s'], 1e-12):.2f} gal/s, "
                f"failures so far {n_failed}{extra}")

    cat = lambda lst: {kk: np.concatenate([p[kk] for p in lst]) for kk in lst[0]}  # noqa: E731
    batch_info = {"chunk_size": chunk_size, "n_chunks": n_chunks, "per_galaxy_tables": tables, "seed": seed}
    info = {**fit_info(model, backend, opts, mode, sys_frac, batch=batch_info), **(meta or {})}
    result = BatchResult(
        backend=backend,
        ids=arr["ids"],
        redshift=arr["redshift"],
        samples=cat(parts["samples"]),
        derived=cat(parts["derived"]),
        diagnostics=cat(parts["raw"]),
        status=np.asarray(status, dtype=object),
        reason=np.asarray(reason, dtype=object),
        run_s=np.asarray(run_s),
        chunk=np.asarray(chunk_of, dtype=np.int64),
        compile_s=float(sum(c["compile_s"] for c in chunks)),
        truth={kk: np.asarray(v, dtype=np.float64) for kk, v in (truth or {}).items()},
        chunks=chunks,
        meta=info,
    )
    return result if columnar else result.to_fit_results()


# ------------------------------------------------------ summaries, calibration
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


def summary_table(result: BatchResult, truths=None):
    """One row per galaxy: percentiles (2.5, 16, 50, 84, 97.5) of every parameter and
    derived quantity, the truth's normalised rank, scalar diagnostics, status, times.

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
