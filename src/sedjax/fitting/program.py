"""The compiled chunk program of a batched fit: ``jit(vmap(backend))`` and sample conversion.

One program per (model, backend, chunk size, mode, sys_frac, options, table mode): every
chunk of a catalogue runs through it with arrays of exactly ``chunk_size`` galaxies, so
it compiles once (:class:`BatchProgram`).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.fitting.goodness import make_chi2_fn
from sedjax.inference import bind, make_opts
from sedjax.inference.posterior import make_target


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
        chi2_fn = make_chi2_fn(model, mode, self.sys_frac)

        def chunk(keys, flux, err, mask, z):
            tabs = model.tables_for_batch(z) if use_tables else None
            data = {"flux": flux, "flux_err": err, "mask": mask, "redshift": z, "tables": tabs}
            return jax.vmap(fn)(keys, data), data

        def one(u, z):
            params, _ = spec.from_unconstrained(u)
            if "redshift" not in spec.free_params:
                params = dict(params, redshift=z)
            return {k: params[k] for k in spec.free_params}, model.derived(params)

        def convert(u, data):  # u (G, S, d), data: the chunk's per-galaxy data (G leading)
            finite = jnp.all(jnp.isfinite(u), axis=-1)
            samples, derived = jax.vmap(jax.vmap(one, in_axes=(0, None)))(jnp.where(finite[..., None], u, 0.0), data["redshift"])
            return samples, derived, finite, jax.vmap(chi2_fn)(u, data)

        self._chunk_fn = chunk
        self._convert_fn = convert

    def run(self, keys, flux, err, mask, z):
        """One chunk: ``(raw, samples, derived, times)`` as NumPy (leading galaxy axis).

        ``times``: compile_s (0 when already compiled), run_s (backend program up to
        ``block_until_ready``), convert_s (physical samples, derived quantities and the
        goodness of fit ``chi2_best``/``chi2_pvalue``/``n_usable_bands``, added to ``raw``:
        :mod:`sedjax.fitting.goodness`).
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
        raw, data = jax.block_until_ready(self._fit(*args))
        run_s = time.perf_counter() - t0
        u = raw["samples"]
        if self._convert is None:
            t0 = time.perf_counter()
            self._convert = jax.jit(self._convert_fn).lower(u, data).compile()
            compile_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        samples, derived, finite, gof = jax.device_get(self._convert(u, data))
        raw = {**jax.device_get(raw), **gof}
        finite = np.asarray(finite)

        def nan(a):
            return np.where(finite, np.asarray(a, dtype=np.float64), np.nan)

        samples = {k: nan(v) for k, v in samples.items()}
        derived = {k: nan(v) for k, v in derived.items()}
        convert_s = time.perf_counter() - t0
        return raw, samples, derived, {"compile_s": compile_s, "run_s": run_s, "convert_s": convert_s}
