"""Time to a posterior: every backend against bagpipes + nautilus on one galaxy (rule ``bench_posterior``).

The galaxy: photometry drawn from the benchmark's own spec (``benchmarks.posterior.params``,
the dpl SFH normalised by ``sfh_log_mass_formed`` so that bagpipes' ``massformed`` prior is
the same distribution) at the parameters ``truth``, predicted in exact mode and perturbed by
Gaussian noise of ``frac_err`` times the flux (:func:`mock_observation`). Both codes fit the
same numbers with the same Gaussian likelihood (no systematic floor: bagpipes has none) and
the priors of :func:`sedjax.bench.bagpipes_fit.prior_mapping`.

Per backend (:func:`bench_posterior_backend`), one compiled program ``bind(backend, target, opts)``:

* ``cold_s`` = trace + lower + XLA compile + first run; ``warm`` = median (IQR) of
  ``warm_repeats`` further runs of the compiled program with fresh keys (no compilation);
* ``evaluations``: calls of the target's functions (``logdensity_fn``, ``loglik_fn``,
  ``residual_fn``, ``logprior_fn``, and those of a nested target such as an
  amplitude-collapsed one), counted in a separate run of the same program and key (never in
  the timed runs) by a host callback in each function whose zero result is added to the
  position, so XLA keeps it wherever the function's value or derivative is used. Each call is
  one forward pass, with or without a gradient; under ``vmap`` (chains, live points, draws)
  every element counts, including elements that a batched ``while_loop`` carries along masked
  after they finished (NUTS trees of different lengths): the work the compiled program does.
  ``model_evaluations`` leaves out ``logprior_fn`` (no model call). NUTS also reports its own
  sampling-phase leapfrog count (``n_leapfrog_sampling``: useful steps, draws only);
* ``ess``: the backend's own effective sample size, the first present of ``ess_bulk`` (min over
  parameters: NUTS), ``psis_ess``, ``importance_ess``, ``ess`` (:data:`ESS_KEYS`); none for a
  point estimate. ``ess_per_s`` = ess / warm time; ``rhat_max`` where the backend has one;
  ``status``/``reason`` from :class:`sedjax.inference.FitResult`;
* ratios: bagpipes' ``fit_s`` over our warm and cold times, our ESS per second over
  bagpipes' (nautilus' ``n_eff`` per second);
* a staged backend (``auto``): ``cold_staged``, the cold time of the way ``fit()`` runs it
  (:func:`sedjax.inference.run_backend`: stage 1 and the merge, stage 2 compiled only when
  stage 1 rejects the galaxy; ``path`` says which): the time to its first posterior, where
  ``cold_s`` compiles both stages into the one ``bind`` program.

The prior library (MAP starts) is built once before the timings (``library_s``); the
physical draws and derived quantities of each backend are computed after them (not timed,
as bagpipes' ``fit_s`` includes its posterior object). Nothing here asserts on timings.
"""

from __future__ import annotations

import logging
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.bench.bagpipes_fit import fit_instructions, prior_mapping, run_bagpipes_fit
from sedjax.bench.record import cache_state, error_record, provenance
from sedjax.bench.sampler import sampler_options
from sedjax.bench.timing import cold_warm, ratio
from sedjax.catalog.mock import noise_sigma
from sedjax.inference import BACKENDS, FitResult, bind, iterations, make_opts, run_backend
from sedjax.inference.posterior import make_data, make_target, physical_samples

COUNTED_FIELDS = ("logdensity_fn", "loglik_fn", "residual_fn", "logprior_fn")
PRIOR_ONLY_FIELDS = ("logprior_fn",)
ESS_KEYS = (
    ("ess_bulk", "bulk ESS (rank-normalised, split chains), min over parameters"),
    ("psis_ess", "PSIS effective sample size of the importance weights"),
    ("importance_ess", "effective sample size of the importance weights"),
    ("ess", "Kish effective sample size of the backend's weights"),
)
GOAL_RATIO_WARM = 30.0  # issue 15: one galaxy's converged posterior >= 30x faster than bagpipes + nautilus, warm


def posterior_model_config(model_cfg: dict, params: dict) -> dict:
    """The benchmark's model section: the config's bands and IGM, dpl SFH, power-law (CF00) dust, ``params``."""
    return {**model_cfg, "sfh": "dpl", "dust_law": "powerlaw", "params": dict(params)}


def mock_observation(model, truth: dict, frac_err: float = 0.1, seed: int = 0,
                     mode: str = "exact") -> tuple[dict, dict]:
    """``(obs, truth)``: the photometry of ``truth`` (free parameters; fixed ones from the spec) in
    ``mode``, plus Gaussian noise of ``frac_err`` times the flux (NumPy generator ``seed``).

    ``truth`` returned with the fixed parameters and derived quantities added. Raises
    ``ValueError`` when a free parameter has no truth, a name is not free, or the truth is
    outside the prior's support.
    """
    spec = model.spec
    missing = [p for p in spec.free_params if p not in truth]
    unknown = [p for p in truth if p not in spec.free_params]
    if missing or unknown:
        raise ValueError(f"benchmarks.posterior.truth: missing free parameters {missing}, not free {unknown}")
    params = spec.with_fixed({k: jnp.asarray(float(v), model.dtype) for k, v in truth.items()})
    if not np.isfinite(float(spec.log_prior(params))):
        raise ValueError(f"benchmarks.posterior.truth {truth} is outside the priors {spec.to_config()['params']}")
    flux = np.asarray(model.predict_photometry(params, mode=mode), dtype=float)
    err = np.asarray(noise_sigma(flux, frac_err), dtype=float)
    noisy = flux + err * np.random.default_rng(seed).normal(size=flux.shape)
    full = {k: float(v) for k, v in params.items()}
    full.update({k: float(v) for k, v in model.derived(params).items()})
    return {"flux": noisy, "flux_err": err, "flux_true": flux, "redshift": model.fixed_redshift}, full


class EvalCounter:
    """Thread-safe counts of target-function calls, by field name (see :func:`counting_target`)."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def callback(self, name: str):
        """A host callback ``u (..., d) -> zeros (...)`` adding the number of positions in ``u`` to ``name``."""

        def add(u):
            u = np.asarray(u)
            with self._lock:
                self.counts[name] = self.counts.get(name, 0) + int(np.prod(u.shape[:-1], dtype=np.int64))
            return np.zeros(u.shape[:-1], u.dtype)

        return add


def _counted(fn, name: str, counter: EvalCounter):
    add = counter.callback(name)

    def wrapped(u, *args, **kwargs):
        u = jnp.asarray(u)
        # one host call per (batched) evaluation, not one per vmapped element; its result (zero) is
        # added to u so that XLA keeps it wherever the function's value or derivative is used
        tick = jax.pure_callback(add, jax.ShapeDtypeStruct((), u.dtype), jax.lax.stop_gradient(u),
                                 vmap_method="broadcast_all")
        return fn(u + tick, *args, **kwargs)

    return wrapped


def counting_target(target, counter: EvalCounter, prefix: str = ""):
    """``target`` with each :data:`COUNTED_FIELDS` function wrapped to count its calls in ``counter``;
    nested targets (NamedTuple fields, e.g. an amplitude-collapsed target) are wrapped too,
    their counts named ``<field>.<function>``."""
    new = {}
    for field, value in target._asdict().items():
        if field in COUNTED_FIELDS and callable(value):
            new[field] = _counted(value, prefix + field, counter)
        elif hasattr(value, "_asdict"):
            new[field] = counting_target(value, counter, f"{prefix}{field}.")
    return type(target)(**{**target._asdict(), **new})


def ess_summary(raw: dict) -> tuple[float | None, str | None]:
    """``(ess, key)``: the backend's own effective sample size (:data:`ESS_KEYS`, min over
    parameters when it has one per parameter), or ``(None, None)`` (a point estimate). A key
    whose values are all NaN is skipped (``auto``'s HMC entries on a galaxy IS accepted)."""
    for key, _ in ESS_KEYS:
        if key in raw:
            a = np.asarray(raw[key], dtype=float)
            if a.size and np.all(np.isnan(a)):
                continue
            return (float(np.min(a)) if a.size else None), key
    return None, None


def rhat_max(raw: dict) -> float | None:
    """The largest split R-hat the backend reports (``rhat_max`` or ``max(rhat)``), else None."""
    for key in ("rhat_max", "rhat"):
        if key in raw and not np.all(np.isnan(np.asarray(raw[key], dtype=float))):
            return float(np.max(np.asarray(raw[key], dtype=float)))
    return None


def count_evaluations(name: str, target, data, opts, key) -> dict:
    """One extra (untimed) run of backend ``name`` with :func:`counting_target`: ``evaluations``
    {field: calls}, ``model_evaluations`` (all but :data:`PRIOR_ONLY_FIELDS`), ``counting_run_s``."""
    counter = EvalCounter()
    t0 = time.perf_counter()
    jax.block_until_ready(jax.jit(bind(name, counting_target(target, counter), opts))(key, data))
    counts = dict(sorted(counter.counts.items()))
    model = sum(n for f, n in counts.items() if f.rpartition(".")[2] not in PRIOR_ONLY_FIELDS)
    return {"evaluations": counts, "model_evaluations": model, "counting_run_s": time.perf_counter() - t0}


def bench_posterior_backend(name: str, target, data, opts, key, warm_repeats: int = 2, count: bool = True,
                            param_names=None) -> tuple[dict, dict]:
    """``(record, raw)`` of one backend on one galaxy (see the module docstring); ``raw`` is the
    cold run's output (its draws are the ones saved)."""
    k_cold = key
    warm_keys = [(k, data) for k in jax.random.split(jax.random.fold_in(key, 1), int(warm_repeats))]
    timings, raw = cold_warm(bind(name, target, opts), (k_cold, data), warm_keys)
    warm_s = timings["warm"]["median_s"]
    ess, ess_key = ess_summary(raw)
    out = {**timings, "options": {k: getattr(opts, k) for k in opts.__dataclass_fields__},
           "iterations": iterations(name, opts), "n_draws": int(np.asarray(raw["samples"]).shape[0]),
           "ess": ess, "ess_key": ess_key, "ess_per_s": ratio(ess, warm_s), "rhat_max": rhat_max(raw)}
    if "n_leapfrog_mean" in raw and hasattr(opts, "n_chains"):
        out["n_leapfrog_sampling"] = float(np.asarray(raw["n_leapfrog_mean"])) * opts.n_chains * opts.n_samples
    names = param_names or [f"u{i}" for i in range(np.asarray(raw["samples"]).shape[-1])]
    try:
        res = FitResult.from_raw(name, raw, names)
        out["status"], out["reason"] = res.status, res.reason
    except Exception as exc:  # a status check must not lose the timings
        out["status"], out["reason"] = "unknown", f"{type(exc).__name__}: {exc}"
    if BACKENDS[name].staged:
        t0 = time.perf_counter()
        staged, compile_s, run_s = run_backend(name, k_cold, target, data, opts)
        out["cold_staged"] = {"cold_s": time.perf_counter() - t0, "compile_s": compile_s, "run_s": run_s,
                              "path": int(np.asarray(staged["path"]))}
    if count:
        out.update(count_evaluations(name, target, data, opts, k_cold))
        n = out["model_evaluations"]
        out["ms_per_model_evaluation_warm"] = 1e3 * warm_s / n if n else None
    return out, raw


def _ratios(r: dict, bagpipes: dict | None) -> dict:
    t_bp = (bagpipes or {}).get("fit_s")
    return {
        "bagpipes_over_warm": ratio(t_bp, r["warm"]["median_s"]),
        "bagpipes_over_cold": ratio(t_bp, r["cold_s"]),
        "ess_per_s_over_bagpipes": ratio(r.get("ess_per_s"), (bagpipes or {}).get("ess_per_s")),
    }


def bench_posterior(model, obs: dict, backends, options: dict | None = None, seed: int = 0, warm_repeats: int = 2,
                    count: bool = True, bagpipes_cfg: dict | None = None, reference: str = "nuts",
                    mode: str = "fast", log=None) -> tuple[dict, dict]:
    """``(record, sample_sets)``: every backend of ``backends`` and bagpipes + nautilus on ``obs``.

    ``options``: {backend: Opts overrides}; ``bagpipes_cfg``: keyword arguments of
    :func:`sedjax.bench.bagpipes_fit.run_bagpipes_fit` (``n_live``, ``n_eff``, ``n_posterior``,
    ``threads``), or None to skip bagpipes. A prior of ``model.spec`` without an exact bagpipes
    counterpart raises ``ValueError`` before anything runs; errors of one backend (or of
    bagpipes' run) are recorded under ``error`` and the others still run. ``sample_sets``: {backend or
    ``"bagpipes"``: {"samples": ..., "derived": ...}} physical draws for the overlay figure.
    """
    log = log or (lambda *a: None)
    options = options or {}
    # before any timing: a prior without an exact bagpipes counterpart stops the benchmark here
    instructions = fit_instructions(model.spec) if bagpipes_cfg is not None else None
    data = make_data(model, obs["flux"], obs["flux_err"], obs.get("mask"), obs.get("redshift"),
                     model.tables_for(obs.get("redshift")))
    target = make_target(model, mode=mode, sys_frac=0.0)
    t0 = time.perf_counter()
    if target.start_fn is not None:  # the prior library: once per model, before the timings
        target.start_fn(data, 1)
    out = {"benchmark": "posterior", "mode": mode, "sys_frac": 0.0, "warm_repeats": int(warm_repeats),
           "seed": int(seed), "n_free": model.spec.n_free, "free_params": list(model.spec.free_params),
           "library_s": time.perf_counter() - t0, "reference": reference, "backends": {}}
    sets = {}
    key = jax.random.PRNGKey(seed)
    for name in backends:
        try:
            opts = make_opts(name, **dict(options.get(name) or {}))
            r, raw = bench_posterior_backend(name, target, data, opts, key, warm_repeats, count,
                                             model.spec.free_params)
            samples, derived = physical_samples(model, raw["samples"], data["redshift"])
            sets[name] = {"samples": samples, "derived": derived}
        except Exception as exc:  # record and go on with the other backends
            r = {"error": error_record(exc)}
        out["backends"][name] = r
        log(f"{name}: error {r['error']['type']}: {r['error']['message']}" if r.get("error") else
            f"{name}: cold {r['cold_s']:.1f} s, warm {r['warm']['median_s']:.2f} s, "
            f"{r.get('model_evaluations', 'uncounted')} model evaluations, ess {r['ess']}, status {r['status']}")
    if bagpipes_cfg is not None:
        try:
            out["prior_mapping"] = prior_mapping(model.spec)
            bp = run_bagpipes_fit(model, obs["flux"], obs["flux_err"], instructions, seed=seed, log=log, **bagpipes_cfg)
            out["bagpipes"] = bp["record"]
            sets["bagpipes"] = {"samples": bp["samples"], "derived": bp["derived"]}
        except Exception as exc:
            out["bagpipes"] = {"error": error_record(exc)}
            log(f"bagpipes: error {type(exc).__name__}: {exc}")
    bp = out.get("bagpipes") if not (out.get("bagpipes") or {}).get("error") else None
    for r in out["backends"].values():
        if not r.get("error"):
            r["ratios"] = _ratios(r, bp)
    out["headline"] = headline(out)
    return out, sets


def fastest_posterior(record: dict) -> dict | None:
    """The backend with the largest bagpipes / warm ratio among those whose draws passed their own
    checks (status ok) and carry an effective sample size (a posterior, not a point estimate)."""
    ok = {n: r for n, r in (record.get("backends") or {}).items()
          if not r.get("error") and r.get("status") == "ok" and r.get("ess")
          and (r.get("ratios") or {}).get("bagpipes_over_warm")}
    if not ok:
        return None
    name = max(ok, key=lambda n: ok[n]["ratios"]["bagpipes_over_warm"])
    r = ok[name]
    return {"backend": name, "warm_s": r["warm"]["median_s"], "cold_s": r["cold_s"], "ess": r["ess"],
            "ess_key": r["ess_key"], **r["ratios"]}


def headline(record: dict) -> dict:
    """The reference backend's warm and cold times against bagpipes', the fastest checked posterior
    (:func:`fastest_posterior`), and issue 15's goal (reported only: a converged posterior, status ok,
    at least :data:`GOAL_RATIO_WARM` times faster than bagpipes + nautilus, warm)."""
    ref = (record.get("backends") or {}).get(record.get("reference")) or {}
    bp = record.get("bagpipes") or {}
    if ref.get("error") or not ref or bp.get("error") or not bp:
        return {"reference": record.get("reference"), "available": False}
    ratios = ref.get("ratios") or {}
    fastest = fastest_posterior(record)
    return {
        "reference": record["reference"],
        "available": True,
        "reference_status": ref.get("status"),
        "reference_warm_s": ref["warm"]["median_s"],
        "reference_cold_s": ref["cold_s"],
        "bagpipes_fit_s": bp.get("fit_s"),
        "bagpipes_over_warm": ratios.get("bagpipes_over_warm"),
        "bagpipes_over_cold": ratios.get("bagpipes_over_cold"),
        "ess_per_s_over_bagpipes": ratios.get("ess_per_s_over_bagpipes"),
        "goal_bagpipes_over_warm": GOAL_RATIO_WARM,
        "goal_met": (ref.get("status") == "ok" and (ratios.get("bagpipes_over_warm") or 0.0) >= GOAL_RATIO_WARM),
        "fastest_posterior": fastest,
        "goal_met_by_fastest": bool(fastest and fastest["bagpipes_over_warm"] >= GOAL_RATIO_WARM),
    }


def run_posterior_benchmark(model_cfg: dict, ssp_path, cfg: dict, fit_cfg: dict, backend_options: dict,
                            runtime: dict | None = None, threads: int = 1, log=None) -> tuple[dict, dict, dict]:
    """The rule's ``(record, sample_sets, meta)``: the model from ``model_cfg`` with ``cfg["params"]``
    (:func:`posterior_model_config`), ``cfg`` = ``benchmarks.posterior`` with its backend list
    resolved, ``fit_cfg`` = ``fit`` (``mode``), ``backend_options`` = the config's per-backend
    options (updated by ``cfg["options"]``: :func:`sedjax.bench.sampler.sampler_options`);
    ``threads``: the job's cores (bagpipes' BLAS pools)."""
    from sedjax.model.from_config import model_from_config

    log = log if log is not None else logging.getLogger("sedjax.bench")
    t0 = time.perf_counter()
    cache = cache_state()
    bench_cfg = posterior_model_config(model_cfg, cfg["params"])
    model = model_from_config(bench_cfg, ssp_path)
    obs, truth = mock_observation(model, cfg["truth"], float(cfg["frac_err"]), int(cfg["seed"]))
    log.info("galaxy: truth %s; flux %s maggies; S/N %s", cfg["truth"], ", ".join(f"{f:.4g}" for f in obs["flux"]),
             ", ".join(f"{f:.3g}" for f in obs["flux"] / obs["flux_err"]))
    bp_cfg = {k: v for k, v in cfg["bagpipes"].items() if k != "enabled"}
    bagpipes_cfg = {**bp_cfg, "threads": int(threads)} if cfg["bagpipes"]["enabled"] else None
    options = sampler_options(cfg["backends"], backend_options, cfg.get("options"))
    log.info("backends %s, options %s; bagpipes %s", cfg["backends"], options, bagpipes_cfg)
    record, sets = bench_posterior(
        model, obs, cfg["backends"], options=options, seed=int(cfg["seed"]),
        warm_repeats=int(cfg["warm_repeats"]), count=bool(cfg["count_evaluations"]), bagpipes_cfg=bagpipes_cfg,
        reference=cfg["reference"], mode=fit_cfg["mode"], log=log.info,
    )
    record.update({"truth": truth, "observation": {k: obs[k] for k in ("flux", "flux_err", "flux_true")},
                   "frac_err": float(cfg["frac_err"]), "bands": list(model.bands), "device": "cpu",
                   "runtime": runtime, "model_config": bench_cfg, "wall_s": time.perf_counter() - t0})
    record["provenance"] = provenance(model, cache, extra={"runtime": runtime})
    meta = {"truth": truth, "reference": cfg["reference"], "bands": list(model.bands)}
    return record, sets, meta
