"""Batched MAP benchmark: Levenberg–Marquardt throughput and accuracy against L-BFGS.

On ``n_galaxies`` mock galaxies drawn from the model's priors (fast-mode photometry, Gaussian
noise of ``frac_err`` times the flux; drawn here, so the chunk size does not depend on the
mock catalogue's size; at the model's fixed redshift, or with ``mock_redshift`` each at its
own, as a catalogue's galaxies are), for each LM setting in ``settings`` (name -> MAPOpts fields over the
MAP backend's options; the rule's defaults, and what each buys, are in ``config/schema.yaml``
under ``benchmarks.map.settings``):

* throughput: one ``jit(vmap(run_map))`` program over the whole chunk (compile, then a cold
  and a warm run of the compiled program; galaxies per minute from the warm run;
  ``gal_per_min_cpu`` from its process CPU time: with one XLA worker, the rate of one
  dedicated core, where a shared machine lowers the wall rate), the prior library built
  before the timing (it is built once per model and redshift, outside the per-galaxy
  program);
* accuracy: on the first ``n_reference`` galaxies, the LM MAP's log posterior against the
  best of ``reference_starts`` L-BFGS starts (prior draws) on the same posterior; the
  fraction within ``tol`` (0.1) of it, and the quantiles of the difference.

The reference runs every (galaxy, start) as its own call of one compiled single-start
L-BFGS program, so each run stops at its own convergence: vmapped, 2 000 runs in lockstep
each cost the slowest run's iterations and line searches (that took over 30 minutes for
100 galaxies × 20 starts; sequentially about one minute). Its time is recorded too (it is
not the goal's comparison).

Nothing here asserts on timings; rule ``bench_map`` writes the record.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.inference import bind, make_opts
from sedjax.inference.backends.map import lbfgs_minimize, start_positions
from sedjax.inference.posterior import make_target


def mock_batch(model, n: int, seed: int = 0, frac_err: float = 0.1, redshift_range=None) -> dict:
    """``n`` prior-drawn galaxies as a batched data pytree (flux, flux_err, mask, redshift, tables).

    At the model's fixed redshift (``tables`` None), or with ``redshift_range = (lo, hi)`` each
    at its own redshift, uniform in that range (inside the model's ``z_range``), with its
    tables (:meth:`~sedjax.model.sed_model.SEDModel.tables_for_batch`), as catalogue
    redshifts come.
    """
    spec = model.spec
    draws = spec.sample_batch(jax.random.PRNGKey(seed), int(n))
    dt = model.dtype
    rng = np.random.default_rng(seed)
    if redshift_range is None:
        z, tables = jnp.full((int(n),), model.fixed_redshift, dt), None
        flux = np.asarray(jax.jit(jax.vmap(lambda p: model.predict_photometry(p, mode="fast")))(draws))
    else:
        lo, hi = (float(v) for v in redshift_range)
        if not (model.z_range[0] <= lo < hi <= model.z_range[1]):
            raise ValueError(f"mock redshift range [{lo}, {hi}] must lie inside the model's z_range {model.z_range}")
        z = jnp.asarray(np.random.default_rng(seed + 10_000).uniform(lo, hi, int(n)), dt)
        tables = model.tables_for_batch(z)

        def one(p, zz, t):
            return model.predict_photometry(dict(p, redshift=zz), mode="fast", tables=t)

        flux = np.asarray(jax.jit(jax.vmap(one))(draws, z, tables))
    err = frac_err * np.abs(flux)
    noisy = flux + err * rng.normal(size=flux.shape)
    return {
        "flux": jnp.asarray(noisy, dt),
        "flux_err": jnp.asarray(err, dt),
        "mask": jnp.ones(flux.shape, dt),
        "redshift": z,
        "tables": tables,
    }


def _timed_batch(fn, keys, data) -> dict:
    t0 = time.perf_counter()
    compiled = jax.jit(jax.vmap(fn)).lower(keys, data).compile()
    compile_s = time.perf_counter() - t0
    runs, cpu = [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(compiled(keys, data))
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    n = int(keys.shape[0])
    return {
        "out": jax.device_get(out),
        "compile_s": compile_s,
        "run_s_first": runs[0],
        "run_s": runs[1],
        "run_cpu_s": cpu[1],
        "gal_per_min": 60.0 * n / runs[1],
        "gal_per_min_cpu": 60.0 * n / cpu[1],
    }


def lbfgs_reference(target, keys, data, n_starts: int) -> dict:
    """The best of ``n_starts`` L-BFGS starts (prior draws) per galaxy, each start run alone.

    Returns ``loss`` (n_galaxies,): the lowest -log p over the starts (inf when none is finite),
    ``compile_s``, ``run_s`` (all runs), ``n_runs`` and ``iterations_median``/``_max``.
    """
    opts = make_opts("map", optimizer="lbfgs", n_starts=int(n_starts), n_library_starts=0)

    def one_start(x0, d):
        return lbfgs_minimize(lambda u: -target.logdensity_fn(u, d), x0, opts)

    def starts(k, d):
        return start_positions(k, d, target.init_fn, opts)

    first = jax.tree.map(lambda x: x[0], data)
    t0 = time.perf_counter()
    starts_c = jax.jit(starts).lower(keys[0], first).compile()
    x0 = starts_c(keys[0], first)
    one_c = jax.jit(one_start).lower(x0[0], first).compile()
    compile_s = time.perf_counter() - t0
    n_gal = int(keys.shape[0])
    best, iters = np.full(n_gal, np.inf), []
    t0 = time.perf_counter()
    for i in range(n_gal):
        d = jax.tree.map(lambda x: x[i], data)
        for x in starts_c(keys[i], d):
            _, value, _, n_iter = one_c(x, d)
            value = float(value)
            iters.append(int(n_iter))
            if np.isfinite(value):
                best[i] = min(best[i], value)
    run_s = time.perf_counter() - t0
    return {"loss": best, "compile_s": compile_s, "run_s": run_s, "n_runs": len(iters),
            "iterations_median": float(np.median(iters)), "iterations_max": int(np.max(iters))}


def _accuracy(lp, lp_ref, tol: float) -> dict:
    delta = lp - lp_ref  # > 0: LM found a higher posterior than every reference start
    within = np.isfinite(lp) & (delta > -tol)
    return {
        "tol": tol,
        "n_galaxies": int(lp.size),
        "frac_within_tol": float(np.mean(within)),
        "n_worse": int(np.sum(~within)),
        "delta_logp_quantiles": {str(q): float(np.nanquantile(delta, q)) for q in (0.0, 0.01, 0.5, 0.99, 1.0)},
    }


def bench_map(model, settings: dict, n_galaxies: int = 1000, n_reference: int = 500, reference_starts: int = 20,
              options: dict | None = None, seed: int = 0, frac_err: float = 0.1,
              tol: float = 0.1, mode: str = "fast", sys_frac: float = 0.0, library_size: int = 10_000,
              mock_redshift=None, log=None) -> dict:
    """The ``bench_map`` record (see the module docstring). ``options``: the MAP backend's
    options, under each setting's fields; ``mock_redshift``: None (every galaxy at the model's
    fixed redshift) or ``(lo, hi)`` (each at its own, :func:`mock_batch`)."""
    log = log or (lambda *a: None)
    if model.fixed_redshift is None:
        raise ValueError("bench_map needs a model with a fixed redshift (the mock galaxies sit at it)")
    n_reference = min(int(n_reference), int(n_galaxies))
    target = make_target(model, mode=mode, sys_frac=sys_frac, library_size=library_size)
    data = mock_batch(model, n_galaxies, seed, frac_err, mock_redshift)
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), int(n_galaxies))

    t0 = time.perf_counter()
    if target.start_fn is not None:  # build the library outside the timed program
        target.start_fn(jax.tree.map(lambda x: x[0], data), 1)
    library_s = time.perf_counter() - t0
    log(f"prior library ({library_size} draws): {library_s:.1f} s")

    sub = jax.tree.map(lambda x: x[:n_reference], data)
    ref = lbfgs_reference(target, keys[:n_reference], sub, reference_starts)
    log(f"L-BFGS reference: {n_reference} galaxies x {reference_starts} starts, each run alone: "
        f"{ref['run_s']:.1f} s (median {ref['iterations_median']:.0f} iterations)")
    lp_ref = -ref.pop("loss")

    timing_keys = ("compile_s", "run_s_first", "run_s", "run_cpu_s", "gal_per_min", "gal_per_min_cpu")
    blocks = {}
    for name, fields in settings.items():
        opts = make_opts("map", **{**dict(options or {}), **dict(fields), "optimizer": "lm"})
        lm = _timed_batch(bind("map", target, opts), keys, data)
        acc = _accuracy(-np.asarray(lm["out"]["loss"][:n_reference], dtype=float), lp_ref, tol)
        screen = f", the best {opts.lm_keep} after {opts.lm_screen_steps}" if opts.lm_screen_steps else ""
        log(f"LM {name} ({opts.n_library_starts} library + {opts.n_starts} random starts x {opts.lm_steps} steps{screen}): "
            f"{n_galaxies} galaxies, compile {lm['compile_s']:.1f} s, warm run {lm['run_s']:.2f} s, "
            f"{lm['gal_per_min']:.0f} galaxies/min; within {tol} of the reference: {acc['frac_within_tol']:.3f}")
        blocks[name] = {"options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
                        **{k: lm[k] for k in timing_keys}, "accuracy": acc}
    return {
        "benchmark": "map",
        "n_galaxies": int(n_galaxies),
        "chunk_size": int(n_galaxies),
        "mode": mode,
        "sys_frac": float(sys_frac),
        "frac_err": float(frac_err),
        "library_size": int(library_size),
        "mock_redshift": None if mock_redshift is None else [float(v) for v in mock_redshift],
        "library_s": library_s,
        "settings": blocks,
        "reference": {"optimizer": "lbfgs", "n_starts": int(reference_starts), "n_galaxies": n_reference, **ref},
        "goals": {"gal_per_min": 1e4, "frac_within_tol": 0.99},
    }


def run_map_benchmark(model_cfg: dict, ssp_path, cfg: dict, fit_cfg: dict, options: dict,
                      runtime: dict | None = None, log=None) -> dict:
    """The rule's record: the model from ``model_cfg``, ``cfg`` = ``benchmarks.map``, ``fit_cfg``
    = ``fit`` (mode, sys_frac), ``options`` = the MAP backend's options (MAPOpts fields, under
    ``cfg["settings"]``); with provenance."""
    import logging

    from sedjax.bench.record import cache_state, provenance
    from sedjax.model.from_config import model_from_config, redshift_range

    log = log if log is not None else logging.getLogger("sedjax.bench")
    cache_at_start = cache_state()
    mock_z = cfg.get("mock_redshift")
    # the model must reach the mock's redshifts (and keep its own)
    z_range = None if mock_z is None else redshift_range(model_cfg, catalog_redshift=list(mock_z))
    model = model_from_config(model_cfg, ssp_path, z_range=z_range)
    out = bench_map(model, cfg["settings"], n_galaxies=int(cfg["n_galaxies"]), n_reference=int(cfg["n_reference"]),
                    reference_starts=int(cfg["reference_starts"]),
                    options=dict(options or {}),
                    seed=int(cfg["seed"]), frac_err=float(cfg["frac_err"]), mode=fit_cfg["mode"],
                    sys_frac=float(fit_cfg["sys_frac"]), library_size=int(cfg["library_size"]),
                    mock_redshift=mock_z, log=log.info)
    out["device"] = "cpu"
    out["provenance"] = provenance(model, cache=cache_at_start, extra={"runtime": runtime})
    return out
