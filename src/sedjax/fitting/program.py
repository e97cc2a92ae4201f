"""The compiled chunk program of a batched fit: ``jit(vmap(backend))`` and sample conversion.

One program per (model, backend, chunk size, mode, sys_frac, options, table mode, collapse): every
chunk of a catalogue runs through it with arrays of exactly ``chunk_size`` galaxies, so
it compiles once (:class:`BatchProgram`).

A staged backend (``auto``: :func:`sedjax.inference.bind_stages`) runs its first stage on the
whole chunk and its second stage only on the galaxies the first did not accept, in
sub-batches of the backend's ``hmc_batch`` galaxies (capped at the chunk size; one more
compiled program; padding with copies of a rejected galaxy); the others get the stage's filler. Keys are per galaxy, so the result
equals the per-galaxy fit's.

A free redshift (fast mode): the model's redshift grid (:attr:`SEDModel.z_tables`, ~10⁸ numbers)
is an argument of every compiled program, shared by the chunk's galaxies (not vmapped), and
each galaxy's data gets it as its ``tables`` inside the program (as a constant it made the
compile minutes long).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.fitting.goodness import make_chi2_fn
from sedjax.inference import BACKENDS, bind, bind_stages, make_opts
from sedjax.inference.diagnostics import quantity_convergence
from sedjax.inference.photoz import PZ_KEYS, redshift_summary
from sedjax.inference.posterior import make_target


def _with_grid(data, grid):
    """``data`` with the shared redshift grid as its tables (as it is when ``grid`` is None)."""
    return data if grid is None else {**data, "tables": grid}


def make_convert_fn(model, mode: str = "fast", sys_frac: float = 0.0):
    """``convert(u, data) -> (samples, derived, finite, gof)`` for one galaxy's draws (pure JAX).

    ``u`` (S, d) unconstrained draws; ``samples`` / ``derived``: ``{name: (S,)}`` physical
    free parameters and derived quantities (rows with a non-finite ``u`` evaluated at 0:
    mask them with ``finite`` (S,)); ``gof``: :func:`sedjax.fitting.goodness.make_chi2_fn`'s
    ``chi2_best``, ``chi2_pvalue``, ``n_usable_bands``. The one conversion of a fit's draws:
    a single fit (:class:`sedjax.fitting.fitter.Fitter`) jits it, a chunk vmaps it.
    """
    spec = model.spec
    chi2_fn = make_chi2_fn(model, mode, float(sys_frac))

    def one(u, z):
        params, _ = spec.from_unconstrained(u)
        if "redshift" not in spec.free_params:
            params = dict(params, redshift=z)
        return {k: params[k] for k in spec.free_params}, model.derived(params)

    def convert(u, data):
        finite = jnp.all(jnp.isfinite(u), axis=-1)
        samples, derived = jax.vmap(one, in_axes=(0, None))(jnp.where(finite[:, None], u, 0.0), data["redshift"])
        return samples, derived, finite, chi2_fn(u, data)

    return convert


class BatchProgram:
    """The compiled chunk program (backend) and sample conversion (physical + derived).

    ``run(keys, flux, err, mask, z)`` takes arrays with a leading axis of exactly
    ``chunk_size`` and compiles on the first call only (``n_compiles`` counts).
    """

    def __init__(self, model, backend: str, chunk_size: int, mode="fast", sys_frac=0.0, options=None, tables=False,
                 collapse_amplitude: bool = True):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.model = model
        self.backend = backend
        self.chunk_size = int(chunk_size)
        self.mode = mode
        self.sys_frac = float(sys_frac)
        self.opts = make_opts(backend, **(options or {}))
        self.tables = bool(tables)
        self.collapse_amplitude = bool(collapse_amplitude)
        self.target = make_target(model, mode=mode, sys_frac=sys_frac, collapse_amplitude=self.collapse_amplitude)
        self.n_compiles = 0
        self._fit = None
        self._convert = None
        use_tables = self.tables
        convert_one = make_convert_fn(model, mode, self.sys_frac)
        self.stages = bind_stages(backend, self.target, self.opts) if BACKENDS[backend].staged else None
        self.sub_batch = min(self.opts.hmc_batch, self.chunk_size) if self.stages is not None else None
        fn = self.stages.first if self.stages is not None else bind(backend, self.target, self.opts)
        self._grid = (model.z_tables.grid() if mode == "fast" and model.fixed_redshift is None
                      and model.z_tables is not None else None)

        def chunk(keys, flux, err, mask, z, grid):
            tabs = model.tables_for_batch(z) if use_tables else None
            data = {"flux": flux, "flux_err": err, "mask": mask, "redshift": z, "tables": tabs}
            return jax.vmap(lambda k, d: fn(k, _with_grid(d, grid)))(keys, data), data

        self._chunk_fn = chunk
        # u (G, S, d), data: the chunk's per-galaxy data (G leading)
        self._convert_fn = lambda u, data, grid: jax.vmap(lambda x, d: convert_one(x, _with_grid(d, grid)))(u, data)
        self._second = self._final = None

    def run(self, keys, flux, err, mask, z):
        """One chunk: ``(raw, samples, derived, times)`` as NumPy (leading galaxy axis).

        ``times``: compile_s (0 when already compiled), run_s (backend program up to
        ``block_until_ready``), convert_s (physical samples, derived quantities and the
        goodness of fit ``chi2_best``/``chi2_pvalue``/``n_usable_bands``, added to ``raw``:
        :mod:`sedjax.fitting.goodness`; and the physical quantities' R-hat and ESS for
        chain-based fits, :func:`sedjax.inference.diagnostics.quantity_convergence`).
        """
        dt = self.model.dtype
        args = (keys, jnp.asarray(flux, dt), jnp.asarray(err, dt), jnp.asarray(mask, dt), jnp.asarray(z, dt), self._grid)
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
        staged_compile_s = 0.0
        if self.stages is not None:
            raw, staged_compile_s = self._second_stage(args[0], data, raw)
            compile_s += staged_compile_s
        run_s = time.perf_counter() - t0 - staged_compile_s
        u = raw["samples"]
        if self._convert is None:
            t0 = time.perf_counter()
            self._convert = jax.jit(self._convert_fn).lower(u, data, self._grid).compile()
            compile_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        samples, derived, finite, gof = jax.device_get(self._convert(u, data, self._grid))
        raw = {**jax.device_get(raw), **gof}
        finite = np.asarray(finite)

        def nan(a):
            return np.where(finite, np.asarray(a, dtype=np.float64), np.nan)

        samples = {k: nan(v) for k, v in samples.items()}
        derived = {k: nan(v) for k, v in derived.items()}
        n_chains = np.asarray(raw.get("draw_chains", np.zeros(self.chunk_size, np.int64)))
        raw.update(quantity_convergence({**samples, **derived}, n_chains))
        if "redshift" in samples:  # photo-z: p(z) on a grid and its modes, per galaxy
            per = [redshift_summary(z, self.model.z_range) for z in samples["redshift"]]
            raw.update({k: np.stack([np.asarray(s[k]) for s in per]) for k in PZ_KEYS})
        convert_s = time.perf_counter() - t0
        return raw, samples, derived, {"compile_s": compile_s, "run_s": run_s, "convert_s": convert_s}

    def _second_stage(self, keys, data, first):
        """Stage 2 on the galaxies stage 1 rejected (sub-batches), filler elsewhere, then merge.

        Returns ``(raw, compile_s)`` with the compile time of the stage-2 and merge programs."""
        st = self.stages
        compile_s = 0.0
        take = lambda tree, idx: jax.tree_util.tree_map(lambda x: x[idx], tree)  # noqa: E731
        filler = jax.vmap(st.filler)(keys, data, first["mode"], first["cov"])
        second = jax.tree_util.tree_map(np.array, jax.device_get(filler))
        rejected = np.flatnonzero(~np.asarray(first["is_accepted"]))
        for lo in range(0, rejected.size, self.sub_batch):
            part = rejected[lo:lo + self.sub_batch]
            idx = np.concatenate([part, np.full(self.sub_batch - part.size, part[0])])
            args = (keys[idx], take(data, idx), first["mode"][idx], first["cov"][idx], self._grid)
            if self._second is None:
                t0 = time.perf_counter()

                def second_fn(k, d, m, c, grid):
                    return jax.vmap(lambda k1, d1, m1, c1: st.second(k1, _with_grid(d1, grid), m1, c1))(k, d, m, c)

                self._second = jax.jit(second_fn).lower(*args).compile()
                compile_s += time.perf_counter() - t0
            out = jax.device_get(self._second(*args))
            for k, v in out.items():
                second[k][part] = np.asarray(v)[: part.size]
        args = (keys, data, first, second, self._grid)
        if self._final is None:
            t0 = time.perf_counter()

            def final_fn(k, d, a, b, grid):
                return jax.vmap(lambda k1, d1, a1, b1: st.final(k1, _with_grid(d1, grid), a1, b1))(k, d, a, b)

            self._final = jax.jit(final_fn).lower(*args).compile()
            compile_s += time.perf_counter() - t0
        return jax.block_until_ready(self._final(*args)), compile_s
