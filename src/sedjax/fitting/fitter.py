"""``Fitter``: one model and one backend with their compiled programs kept — compile once, fit many.

A single fit runs a few compiled programs: the backend (a staged backend's stages, each
compiled the first time a galaxy needs it: :func:`sedjax.inference.single_fit_fns`) and the
conversion of its draws to physical samples, derived quantities and the goodness of fit
(:func:`sedjax.fitting.program.make_convert_fn`). Every per-galaxy value is an *argument*
of those programs — fluxes, errors, the band mask, the key, the redshift and the fast-mode
tables at that redshift (the model's own at its fixed redshift, else interpolated on its
redshift grid: :meth:`~sedjax.model.sed_model.SEDModel.tables_for`) — so a second galaxy
on the same model, with any fluxes, mask, key or redshift inside ``model.z_range``, runs
the programs already compiled. A program is keyed by its name and its arguments' tree
structure, shapes and dtypes (:attr:`Fitter.programs`); what changes the program itself —
the model, backend, options, photometry mode, systematic floor, amplitude collapse — makes
another Fitter.

:func:`sedjax.fitting.single.fit` is a thin wrapper over a bounded cache of Fitters
(:func:`~sedjax.fitting.single.fit_cache_info`, :func:`~sedjax.fitting.single.clear_fit_cache`).
Across processes, JAX's persistent compilation cache (on by default for library use:
:func:`sedjax.io.runtime.library_cache_dir`) makes the first compile of a known program a load.
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.fitting.inputs import catalog_arrays, check_redshifts, galaxy_keys, warn_metallicity_range
from sedjax.fitting.program import make_convert_fn
from sedjax.inference import BACKENDS, QUICK_COMPILE, FitResult, drive_single_fit, make_opts, single_fit_fns
from sedjax.inference.diagnostics import quantity_convergence
from sedjax.inference.photoz import redshift_summary
from sedjax.inference.posterior import make_data, make_target
from sedjax.io.provenance import package_versions

MODES = ("fast", "exact")


def fit_info(model, backend: str, opts, mode: str, sys_frac: float, collapse_amplitude: bool = True, **extra) -> dict:
    """Metadata stored with every fit (single or batched): what was fitted and how."""
    return {
        "backend": backend,
        "mode": mode,
        "sys_frac": sys_frac,
        "collapse_amplitude": bool(collapse_amplitude),
        "options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
        "spec": model.spec.to_config(),
        "bands": model.bands,
        **extra,
        "versions": package_versions(),
    }


def check_fit_settings(backend: str, mode: str, sys_frac) -> float:
    """Refuse an unknown backend or mode and a systematic floor that is not finite and >= 0;
    returns ``sys_frac`` as a float."""
    if backend not in BACKENDS:
        raise KeyError(f"unknown backend {backend!r}; known: {sorted(BACKENDS)}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    try:
        s = float(sys_frac)
    except (TypeError, ValueError):
        raise TypeError(f"sys_frac must be a number (a fractional error such as 0.05), got {sys_frac!r}") from None
    if not (math.isfinite(s) and s >= 0):
        raise ValueError(f"sys_frac must be finite and >= 0 (a fractional error such as 0.05), got {sys_frac!r}")
    return s


def _signature(args) -> tuple:
    leaves, tree = jax.tree.flatten(args)
    return tree, tuple(jax.typeof(x) for x in leaves)


class Fitter:
    """Fit galaxies one by one with one model and one backend, compiling each program once.

    Parameters
    ----------
    model : SEDModel
    backend : one of ``sedjax.inference.BACKENDS``
    mode, sys_frac, options, collapse_amplitude : as :func:`sedjax.fitting.single.fit`
        (``options``: a dict of the backend's Opts fields, or an Opts instance)
    target : a :func:`~sedjax.inference.posterior.make_target` of the same model, mode,
        sys_frac and collapse to share (its prior library is then built once); default: a new one
    compiler_options : XLA options for the backend's programs (those not already compiled
        with :data:`~sedjax.inference.QUICK_COMPILE`), e.g.
        :data:`~sedjax.inference.OPTIMIZED_COMPILE`; default: the process's XLA flags

    ``fit(obs, key)`` fits one galaxy, ``fit_many(catalog)`` every galaxy of a catalogue one
    after another (for ``vmap`` over galaxies use :func:`sedjax.fitting.batch.fit_batch`).
    ``n_compiles`` counts the programs compiled so far, :attr:`programs` lists them and
    :meth:`clear` releases them.
    """

    def __init__(self, model, backend: str, *, mode: str = "fast", sys_frac: float = 0.0, options=None,
                 collapse_amplitude: bool = True, target=None, compiler_options=None):
        self.compiler_options = dict(compiler_options) if compiler_options else None
        self.sys_frac = check_fit_settings(backend, mode, sys_frac)
        self.model = model
        self.backend = backend
        self.mode = mode
        self.collapse_amplitude = bool(collapse_amplitude)
        if options is None or isinstance(options, dict):
            self.opts = make_opts(backend, **(options or {}))
        else:
            self.opts = make_opts(backend, options)
        self.target = target if target is not None else make_target(
            model, mode=mode, sys_frac=self.sys_frac, collapse_amplitude=self.collapse_amplitude)
        self._fns = single_fit_fns(backend, self.target, self.opts)
        self._convert_fn = make_convert_fn(model, mode, self.sys_frac)
        self._programs: dict[tuple, dict] = {}
        self.n_compiles = 0
        self._tables_ready = False

    # ------------------------------------------------------------------ cache
    @property
    def programs(self) -> list[dict]:
        """One row per compiled program: name, compile_s, calls, and the argument shapes."""
        return [{"name": sig[0], "compile_s": p["compile_s"], "calls": p["calls"],
                 "shapes": [str(a) for a in sig[2]]} for sig, p in self._programs.items()]

    def clear(self) -> None:
        """Drop the compiled programs (the next fit compiles again)."""
        self._programs.clear()

    def _call(self, name, fn, args, compiler_options):  # -> (output, compile_s, run_s)
        sig = (name, *_signature(args))
        prog = self._programs.get(sig)
        compile_s = 0.0
        if compiler_options is None:
            compiler_options = self.compiler_options
        if prog is None:
            t0 = time.perf_counter()
            compiled = jax.jit(fn).lower(*args).compile(compiler_options=compiler_options)
            compile_s = time.perf_counter() - t0
            prog = self._programs[sig] = {"compiled": compiled, "compile_s": compile_s, "calls": 0}
            self.n_compiles += 1
        t0 = time.perf_counter()
        out = jax.block_until_ready(prog["compiled"](*args))
        prog["calls"] += 1
        return out, compile_s, time.perf_counter() - t0

    # ------------------------------------------------------------------- data
    def _tables(self, redshift):
        """The fast tables at the galaxy's redshift, always as an argument (None in exact mode;
        a free redshift: the model's redshift grid, interpolated at the sampled z)."""
        model = self.model
        if self.mode != "fast":
            return None
        if model.fixed_redshift is None:
            return None if model.z_tables is None else model.z_tables.grid()
        if not self._tables_ready and model.z_tables is not None:
            # the first galaxy also readies the interpolated tables of any other redshift in
            # range, so that no later galaxy compiles them
            lo, hi = model.z_range
            model.tables_for(hi if model.fixed_redshift != hi else lo)
        self._tables_ready = True
        tables = model.tables_for(redshift)
        return model.own_tables if tables is None else tables

    def data(self, obs: dict, galaxy_id=None) -> dict:
        """The validated per-galaxy data pytree of ``obs`` (as the compiled programs take it)."""
        redshift = obs.get("redshift")
        if redshift is not None:
            z = np.asarray(redshift, dtype=np.float64)
            if z.shape not in ((), (1,)):
                raise ValueError(f"obs['redshift'] must be one number for one galaxy, got shape {z.shape}")
            redshift = float(z.reshape(()))
            check_redshifts(self.model, redshift, None if galaxy_id is None else [galaxy_id])
        return make_data(self.model, obs["flux"], obs["flux_err"], obs.get("mask"), redshift,
                         self._tables(redshift))

    # -------------------------------------------------------------------- fit
    def fit(self, obs: dict, key, meta=None) -> FitResult:
        """Fit one galaxy: ``obs`` with ``flux``, ``flux_err`` (n_band,) maggies, optional
        ``mask`` and ``redshift``; ``key`` a JAX PRNG key (same key, same samples).

        Returns a :class:`~sedjax.inference.FitResult` as :func:`sedjax.fitting.single.fit`;
        ``timings["compile_s"]`` is 0 when every program it ran was already compiled.
        """
        model = self.model
        warn_metallicity_range(model)
        data = self.data(obs, (meta or {}).get("galaxy_id", obs.get("id")))
        raw, compile_s, run_s = drive_single_fit(self._fns, key, data, self._call)
        (samples, derived, finite, gof), c, _ = self._call("convert", self._convert_fn, (raw["samples"], data),
                                                          QUICK_COMPILE)
        compile_s += c
        finite = np.asarray(finite)

        def nan(a):
            return np.where(finite, np.asarray(a, dtype=np.float64), np.nan)

        samples = {k: nan(v) for k, v in samples.items()}
        derived = {k: nan(v) for k, v in derived.items()}
        raw = {**raw, **{k: np.asarray(v) for k, v in gof.items()}}
        conv = quantity_convergence({k: v[None] for k, v in {**samples, **derived}.items()},
                                    [int(np.asarray(raw.get("draw_chains", 0)))])
        raw.update({k: v[0] for k, v in conv.items()})
        if "redshift" in samples:  # photo-z: p(z) on a grid and its modes
            raw.update(redshift_summary(samples["redshift"], model.z_range))
        info = {**fit_info(model, self.backend, self.opts, self.mode, self.sys_frac, self.collapse_amplitude,
                           redshift=None if np.isnan(float(data["redshift"])) else float(data["redshift"])),
                **(meta or {})}
        return FitResult.from_raw(self.backend, raw, model.spec.free_params, compile_s=compile_s, run_s=run_s,
                                  derived=derived, samples=samples, meta=info)

    def fit_many(self, catalog, keys=None, *, seed: int = 0, meta=None) -> list[FitResult]:
        """Fit every galaxy of ``catalog`` (a :class:`~sedjax.catalog.table.Catalog` or a mapping,
        as :func:`~sedjax.fitting.inputs.catalog_arrays`) one after another on the same programs.

        ``keys``: one PRNG key per galaxy; default ``fold_in(PRNGKey(seed), id)`` (as
        ``fit_batch``, so galaxy ``i`` equals its batched fit to round-off). Each result's
        ``meta`` holds ``galaxy_id``.
        """
        arr = catalog_arrays(catalog, self.model)
        n = len(arr["ids"])
        keys = galaxy_keys(seed, arr["ids"]) if keys is None else jnp.asarray(keys)
        if keys.shape[0] != n:
            raise ValueError(f"{keys.shape[0]} keys for {n} galaxies")
        out = []
        for i in range(n):
            gid = arr["ids"][i]
            obs = {"flux": arr["flux"][i], "flux_err": arr["flux_err"][i], "mask": arr["mask"][i],
                   "redshift": arr["redshift"][i]}
            out.append(self.fit(obs, keys[i], meta={**(meta or {}), "galaxy_id": gid.item()}))
        return out

    def __repr__(self):
        return (f"Fitter({self.backend!r}, mode={self.mode!r}, sys_frac={self.sys_frac}, "
                f"collapse_amplitude={self.collapse_amplitude}, programs={len(self._programs)}, "
                f"n_compiles={self.n_compiles})")
