"""Backend registry and the Python-level drivers (jit, timing, vmap over galaxies).

:data:`BACKENDS` holds everything the package knows about a backend, one entry per
name: its run function, its Opts class, its own status checks (used by
:func:`sedjax.inference.status.assess_status`), its iteration count per call (for
per-iteration timings) and whether it needs the prior and the likelihood separately.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from . import auto, importance, laplace, ns, nuts, pathfinder, vi
from . import map as map_backend  # (not shadowing the builtin)
from ._common import Target
from .gaussian import gaussian_from_cov, gaussian_from_precision, marginal_cov
from .lm import gauss_newton_precision
from .map import map_core


class Backend(NamedTuple):
    """A registry entry: what the package knows about one backend.

    run : ``run_<name>(key, logdensity_fn, data, init_fn, opts, ...)``
    opts_cls : its frozen Opts dataclass
    status_checks : ``(diagnostics, *, rhat_max, max_divergence_frac) -> (failures, warnings)``,
        the backend's own checks on one galaxy's diagnostics
    iterations : ``(opts) -> int | None``, sequential iterations of one call (None: no fixed count)
    needs_split : the backend takes ``logprior_fn`` / ``loglik_fn`` separately
    extras : optional :class:`Target` fields the backend takes as keywords when the target
        has them (``residual_fn``, ``logprior_fn``, ``start_fn`` for the MAP stage), or
        ``mode_fn``: the MAP stage as a function (:func:`make_mode_fn`)
    collapsible : the backend samples the amplitude-collapsed target when the target has
        one (``Target.collapse``): :func:`bind` hands it the collapsed functions and draws
        the normalisation back per sample (``raw["samples"]`` stays full-dimensional; other
        u-space outputs such as NUTS' ``chains`` or VI's ``mean``/``cov`` are in the
        collapsed space, and ``raw["amplitude_collapsed"]`` is True)
    """

    run: Callable
    opts_cls: type
    status_checks: Callable[..., tuple[list[str], list[str]]]
    iterations: Callable[[Any], int | None]
    needs_split: bool = False
    extras: tuple[str, ...] = ()
    collapsible: bool = False
    staged: bool = False


def _entry(module, run, opts_cls, needs_split=False, extras=(), collapsible=False, staged=False) -> Backend:
    return Backend(run, opts_cls, module.status_checks, module.iterations, needs_split, tuple(extras), collapsible,
                   staged)


_MAP_EXTRAS = ("residual_fn", "logprior_fn", "start_fn", "linear_amplitude")


BACKENDS: dict[str, Backend] = {
    "map": _entry(map_backend, map_backend.run_map, map_backend.MAPOpts, extras=_MAP_EXTRAS + ("low_precision", "kinks")),
    "laplace": _entry(laplace, laplace.run_laplace, laplace.LaplaceOpts, extras=_MAP_EXTRAS),
    "pathfinder": _entry(pathfinder, pathfinder.run_pathfinder, pathfinder.PathfinderOpts, collapsible=True),
    "nuts": _entry(nuts, nuts.run_nuts, nuts.NUTSOpts, extras=("mode_fn",), collapsible=True),
    "vi": _entry(vi, vi.run_vi, vi.VIOpts, collapsible=True),
    "ns": _entry(ns, ns.run_ns, ns.NSOpts, needs_split=True, collapsible=True),
    "is": _entry(importance, importance.run_is, importance.ISOpts, extras=("mode_fn", "modes_fn"), collapsible=True),
    "auto": _entry(auto, auto.run_auto, auto.AutoOpts, extras=("mode_fn", "modes_fn"), collapsible=True,
                   staged=True),
}

# backends that need the prior and the likelihood separately
NEEDS_SPLIT = frozenset(name for name, b in BACKENDS.items() if b.needs_split)


def make_opts(name: str, opts=None, **overrides):
    """The backend's Opts: ``opts`` (or the defaults) with ``overrides`` applied."""
    if name not in BACKENDS:
        raise KeyError(f"unknown backend {name!r}; known: {sorted(BACKENDS)}")
    cls = BACKENDS[name].opts_cls
    if opts is None:
        opts = cls()
    elif not isinstance(opts, cls):
        raise TypeError(f"opts for {name!r} must be {cls.__name__}, got {type(opts).__name__}")
    return dataclasses.replace(opts, **overrides) if overrides else opts


def iterations(name: str, opts) -> int | None:
    """Sequential iterations one call of backend ``name`` runs with ``opts`` (None: no fixed count)."""
    it = BACKENDS[name].iterations(opts)
    return None if it is None else int(it)


def make_mode_fn(target: Target, collapse=None) -> Callable:
    """``mode_fn(key, data, map_opts) -> (mode, map_loss, gaussian)``: the MAP stage.

    :func:`~sedjax.inference.backends.map.map_core` on the full target (LM with its residuals
    and library starts) and the Gauss–Newton curvature there
    (:func:`~sedjax.inference.backends.lm.gauss_newton_precision`: ``J^T J`` + the prior's
    Hessian, no Hessian of the forward model); ``gaussian``: its Gaussian
    (:func:`~sedjax.inference.backends.gaussian.gaussian_from_precision`). With ``collapse``
    the mode is projected and the Gaussian is the marginal without the normalisation.
    """
    def mode_fn(key, data, map_opts):
        r = map_core(key, target.logdensity_fn, data, target.init_fn, map_opts, residual_fn=target.residual_fn,
                     logprior_fn=target.logprior_fn, start_fn=target.start_fn, linear_amplitude=target.linear_amplitude,
                     low_precision=target.low_precision, kinks=target.kinks)
        h = gauss_newton_precision(r["mode"], data, target.logdensity_fn, target.residual_fn, target.logprior_fn)
        g = gaussian_from_precision(h)
        if collapse is None:
            return r["mode"], r["loss"], g
        g_shape = gaussian_from_cov(marginal_cov(g["cov"], collapse.index))
        g_shape["hessian_posdef"] = g["hessian_posdef"]
        return collapse.project_fn(r["mode"]), r["loss"], g_shape

    return mode_fn


def make_modes_fn(target: Target, collapse=None) -> Callable | None:
    """``modes_fn(key, data, map_opts) -> (ends (S, d), losses (S,), gaussians)``: every MAP
    start's endpoint with its Gauss–Newton Gaussian (batched dict, as :func:`make_mode_fn`'s
    per endpoint; projected and marginal with ``collapse``), for the mixture proposal of
    :mod:`~sedjax.inference.backends.mixture_is`. None unless ``target.multimodal``."""
    if not target.multimodal:
        return None

    def modes_fn(key, data, map_opts):
        r = map_core(key, target.logdensity_fn, data, target.init_fn, map_opts, residual_fn=target.residual_fn,
                     logprior_fn=target.logprior_fn, start_fn=target.start_fn, linear_amplitude=target.linear_amplitude,
                     low_precision=target.low_precision, kinks=target.kinks)
        ends = r["end_positions"]
        h = jax.vmap(lambda u: gauss_newton_precision(u, data, target.logdensity_fn, target.residual_fn,
                                                      target.logprior_fn))(ends)
        g = jax.vmap(gaussian_from_precision)(h)
        if collapse is None:
            return ends, r["losses"], g
        posdef = g["hessian_posdef"]
        g = jax.vmap(lambda c: gaussian_from_cov(marginal_cov(c, collapse.index)))(g["cov"])
        g["hessian_posdef"] = posdef
        return jax.vmap(collapse.project_fn)(ends), r["losses"], g

    return modes_fn


# the key of the normalisation draws of a collapsed fit: fold_in(fit key, AMPLITUDE_KEY)
AMPLITUDE_KEY = 0x616D70


def bind(name: str, target: Target, opts=None, **overrides) -> Callable:
    """``fn(key, data) -> dict``: the backend with target and opts bound (not jitted).

    A ``collapsible`` backend runs on ``target.collapse`` when there is one; its draws are
    then expanded to the full ``u`` with the normalisation drawn from its exact conditional
    (key ``fold_in(key, AMPLITUDE_KEY)``).
    """
    opts = make_opts(name, opts, **overrides)
    entry = BACKENDS[name]
    collapse = target.collapse if entry.collapsible else None
    space = target if collapse is None else collapse
    kwargs: dict[str, Any] = dict(
        logdensity_fn=space.logdensity_fn, init_fn=space.init_fn, opts=opts
    )
    if name in NEEDS_SPLIT:
        if space.logprior_fn is None:
            raise ValueError(f"backend {name!r} needs target.logprior_fn")
        kwargs.update(logprior_fn=space.logprior_fn, loglik_fn=space.loglik_fn)
    for field in entry.extras:
        if field == "mode_fn":
            kwargs["mode_fn"] = make_mode_fn(target, collapse)
        elif field == "modes_fn":
            if target.multimodal:
                kwargs["modes_fn"] = make_modes_fn(target, collapse)
        elif getattr(target, field) is not None:
            kwargs[field] = getattr(target, field)
    run = entry.run
    finish = _finisher(collapse)

    def fn(key, data):
        return finish(key, run(key, data=data, **kwargs), data)

    return fn


def _finisher(collapse) -> Callable:
    """``finish(key, raw, data)``: a collapsed fit's draws expanded to the full ``u``."""
    if collapse is None:
        return lambda key, raw, data: raw

    def finish(key, raw, data):
        raw = dict(raw)
        raw["samples"] = collapse.expand_fn(jax.random.fold_in(key, AMPLITUDE_KEY), raw["samples"], data)
        raw["amplitude_collapsed"] = jnp.asarray(True)
        return raw

    return finish


class Stages(NamedTuple):
    """A staged backend's pieces for a batch driver (:func:`bind_stages`)."""

    first: Callable  # (key, data) -> stage-1 dict (with "is_accepted", "mode" and "cov")
    second: Callable  # (key, data, mode, cov) -> stage-2 dict
    filler: Callable  # (key, data, mode, cov) -> stage-2 dict of NaN / -1 / False (same shapes)
    final: Callable  # (key, data, first, second) -> raw (merged, expanded)


def bind_stages(name: str, target: Target, opts=None, **overrides) -> Stages:
    """The ``auto`` backend in pieces, so a batch runs stage 2 on the galaxies stage 1 rejected only.

    ``final(key, data, a, second(key, data, a["mode"], a["cov"]))`` with ``a = first(key, data)`` equals ``bind(name, ...)(key, data)``
    for a galaxy stage 1 rejected (with ``filler`` in place of ``second`` for one it accepted).
    """
    entry = BACKENDS[name]
    if not entry.staged:
        raise ValueError(f"backend {name!r} is not staged")
    opts = make_opts(name, opts, **overrides)
    collapse = target.collapse if entry.collapsible else None
    space = target if collapse is None else collapse
    mode_fn = make_mode_fn(target, collapse)
    modes_fn = make_modes_fn(target, collapse)
    finish = _finisher(collapse)

    def first(key, data):
        return auto.stage_is(key, space.logdensity_fn, data, space.init_fn, opts, mode_fn=mode_fn, modes_fn=modes_fn)

    def second(key, data, mode, cov):
        return auto.stage_hmc(key, space.logdensity_fn, data, mode, cov, opts)

    def filler(key, data, mode, cov):
        return auto.hmc_filler(auto.hmc_output_shapes(opts, mode.shape[0], mode.dtype))

    def final(key, data, a, h):
        return finish(key, auto.merge(a, h), data)

    return Stages(first, second, filler, final)


# XLA options for a program that runs once for well under a second (a staged backend's first
# stage on one galaxy, a single fit's post-processing of its draws): LLVM's backend
# optimisations off. On the default model's ``auto`` IS stage this cut the compile by ~5 s
# (of ~17 s) and lengthened the run by ~0.2 s (of ~0.4 s).
QUICK_COMPILE = {"xla_backend_optimization_level": 0}
# XLA's own CPU defaults, stated so that they hold whatever the process's XLA_FLAGS say (the
# test session compiles with quicker flags: tests/conftest.py): for a program whose run,
# not its compile, is the cost (a long NUTS run). Pass as ``compiler_options``.
OPTIMIZED_COMPILE = {"xla_backend_optimization_level": 3, "xla_cpu_use_fusion_emitters": True}


def _compile_and_run(fn, *args, compiler_options=None):  # -> (output, compile_s, run_s)
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile(compiler_options=compiler_options)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = compiled(*args)
    out = jax.block_until_ready(out)
    run_s = time.perf_counter() - t0
    return out, compile_s, run_s


def single_fit_fns(name: str, target: Target, opts=None, **overrides) -> dict[str, Callable]:
    """The programs one galaxy's fit runs (not jitted), by name.

    ``{"run": fn(key, data) -> raw}`` for a plain backend. A staged backend (``auto``,
    :func:`bind_stages`) has three: ``"first"`` (stage 1 with the merge, ``(key, data) ->
    (stage-1 dict, raw)``), and, only for a galaxy stage 1 does not accept, ``"second"``
    (``(key, data, mode, cov)``) and ``"final"`` (``(key, data, stage-1 dict, stage-2
    dict) -> raw``). :func:`drive_single_fit` runs them; :func:`run_backend` and
    :class:`sedjax.fitting.fitter.Fitter` (which keeps the compiled programs) both use it.
    """
    if not BACKENDS[name].staged:
        return {"run": bind(name, target, opts, **overrides)}
    st = bind_stages(name, target, opts, **overrides)

    def first(key, data):
        a = st.first(key, data)
        return a, st.final(key, data, a, st.filler(key, data, a["mode"], a["cov"]))

    return {"first": first, "second": st.second, "final": st.final}


def drive_single_fit(fns: dict[str, Callable], key, data, call) -> tuple[dict, float, float]:
    """Run a single fit's programs (:func:`single_fit_fns`): ``(raw, compile_s, run_s)``.

    ``call(name, fn, args, compiler_options) -> (output, compile_s, run_s)`` compiles (or
    reuses) and runs one program. A staged backend runs stage 2 and the merge again only
    when stage 1 does not accept the galaxy (so an accepted galaxy never compiles stage 2);
    the result equals ``bind(name, ...)(key, data)`` (to roundoff: stage 1 is compiled with
    :data:`QUICK_COMPILE`).
    """
    if "run" in fns:
        return call("run", fns["run"], (key, data), None)
    (a, raw), compile_s, run_s = call("first", fns["first"], (key, data), QUICK_COMPILE)
    if not bool(a["is_accepted"]):
        h, c2, r2 = call("second", fns["second"], (key, data, a["mode"], a["cov"]), None)
        raw, c3, r3 = call("final", fns["final"], (key, data, a, h), None)
        compile_s, run_s = compile_s + c2 + c3, run_s + r2 + r3
    return raw, compile_s, run_s


def run_backend(name: str, key, target: Target, data, opts=None, **overrides):
    """Fit one galaxy, compiling its programs afresh.  Returns ``(raw dict, compile_s, run_s)``.

    ``compile_s`` is the ``jit(...).lower(...).compile()`` time, ``run_s`` the time
    of the compiled call up to ``block_until_ready``. A staged backend (``auto``) runs as a
    batch does (:func:`drive_single_fit`). To fit many galaxies without compiling again,
    use :class:`sedjax.fitting.fitter.Fitter` (or ``sedjax.fitting.fit``).
    """
    def call(_name, fn, args, compiler_options):
        return _compile_and_run(fn, *args, compiler_options=compiler_options)

    return drive_single_fit(single_fit_fns(name, target, opts, **overrides), key, data, call)


def run_backend_batch(name: str, keys, target: Target, data_batched, opts=None, **overrides):
    """Fit a batch of galaxies in one compiled program: ``jit(vmap(fn))(keys, data)``.

    ``keys`` has a leading galaxy axis (``jax.random.split(key, n_gal)``) and every
    leaf of ``data_batched`` has the same leading axis.  Every output array gains
    that leading axis.  Returns ``(raw dict, compile_s, run_s)``.
    """
    fn = bind(name, target, opts, **overrides)
    return _compile_and_run(jax.vmap(fn), keys, data_batched)
