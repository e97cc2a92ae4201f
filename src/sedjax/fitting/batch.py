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
  redshift interpolates the model's redshift grid at the sampled z, the grid an argument of the
  compiled programs (:mod:`sedjax.fitting.program`), as ``fit`` does; the catalogue's redshift
  column, if any, is not used.

Galaxy ``i`` of a batch equals ``fit(model, obs_i, backend, key_i, ...)`` to
floating-point round-off (vmap may reorder a reduction).

Results come back as one :class:`~sedjax.fitting.batch_result.BatchResult` (arrays with a
leading galaxy axis, HDF5 persistence in one file: see
:meth:`~sedjax.fitting.batch_result.BatchResult.save_hdf5` for the layout;
``.galaxy(i)`` / ``.to_fit_results()`` for :class:`~sedjax.inference.FitResult` objects).

The pieces: inputs (:mod:`sedjax.fitting.inputs`), the compiled program
(:mod:`sedjax.fitting.program`), chunk bounds (:mod:`sedjax.fitting.chunks`), results
(:mod:`sedjax.fitting.batch_result`); summaries and calibration statistics of the results
are in :mod:`sedjax.analysis.calibration`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import jax.numpy as jnp
import numpy as np

from sedjax.fitting.batch_result import BatchResult
from sedjax.fitting.chunks import chunk_count, chunk_rows
from sedjax.fitting.inputs import catalog_arrays, galaxy_keys, needs_tables, warn_metallicity_range
from sedjax.fitting.program import BatchProgram
from sedjax.fitting.fitter import fit_info
from sedjax.inference import fit_status, make_opts


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
    program: BatchProgram | None = None,
    collapse_amplitude: bool = True,
) -> BatchResult:
    """Fit every galaxy of ``catalog`` with ``backend``, ``chunk_size`` galaxies per vmapped call.

    Parameters
    ----------
    model : SEDModel
    catalog : :class:`~sedjax.catalog.table.Catalog` or mapping (see :func:`catalog_arrays`)
    backend : one of ``sedjax.inference.BACKENDS``
    keys : (n,) PRNG keys, one per galaxy; default ``fold_in(PRNGKey(seed), id)``
    seed : seed of the default keys (the workflow's ``fit.seed``)
    mode, sys_frac, options, collapse_amplitude : as :func:`sedjax.fitting.single.fit`
    chunk_size : galaxies per compiled call (the last chunk is padded)
    truth : optional ``{name: (n,)}`` true values, stored with the results
    meta : extra metadata stored with the results
    log : progress callback (one line per chunk), or None
    program : a :class:`BatchProgram` to reuse (its compiled program is reused when the
        chunk size, backend and table mode match)

    Returns
    -------
    BatchResult (galaxy order of the catalogue; ``.galaxy(i)`` / ``.to_fit_results()``
    give :class:`~sedjax.inference.FitResult` objects).
    """
    warn_metallicity_range(model)
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
        program = BatchProgram(model, backend, chunk_size, mode, sys_frac, options, tables, collapse_amplitude)
    else:
        ok = (program.model is model and program.backend == backend and program.chunk_size == chunk_size
              and program.tables == tables and program.mode == mode and program.sys_frac == float(sys_frac)
              and program.opts == make_opts(backend, **(options or {}))
              and program.collapse_amplitude == bool(collapse_amplitude))
        if not ok:
            raise ValueError("program does not match model/backend/chunk_size/mode/sys_frac/options/tables/collapse_amplitude")
    opts = program.opts
    n_chunks = chunk_count(n, chunk_size)
    if log is not None:
        log(f"{backend}: {n} galaxies in {n_chunks} chunk(s) of {chunk_size}"
            f"{' (per-galaxy fast tables)' if tables else ''}")

    parts: dict[str, list] = {"raw": [], "samples": [], "derived": []}
    status, reason, run_s, chunk_of, chunks = [], [], [], [], []
    n_failed = 0
    for c in range(n_chunks):
        t_wall = time.perf_counter()
        lo, hi = chunk_rows(c, chunk_size, n)
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
            s, r = fit_status(backend, {kk: v[g] for kk, v in diags.items()}, raw["samples"][g],
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
    info = {**fit_info(model, backend, opts, mode, sys_frac, collapse_amplitude, batch=batch_info), **(meta or {})}
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
    return result
