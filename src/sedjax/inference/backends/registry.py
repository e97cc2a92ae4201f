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

from . import laplace, ns, nuts, pathfinder, vi
from . import map as map_backend  # (not shadowing the builtin)
from ._common import Target


class Backend(NamedTuple):
    """A registry entry: what the package knows about one backend.

    run : ``run_<name>(key, logdensity_fn, data, init_fn, opts, ...)``
    opts_cls : its frozen Opts dataclass
    status_checks : ``(diagnostics, *, rhat_max, max_divergence_frac) -> (failures, warnings)``,
        the backend's own checks on one galaxy's diagnostics
    iterations : ``(opts) -> int | None``, sequential iterations of one call (None: no fixed count)
    needs_split : the backend takes ``logprior_fn`` / ``loglik_fn`` separately
    extras : optional :class:`Target` fields the backend takes as keywords when the target
        has them (``residual_fn``, ``logprior_fn``, ``start_fn`` for the MAP stage)
    """

    run: Callable
    opts_cls: type
    status_checks: Callable[..., tuple[list[str], list[str]]]
    iterations: Callable[[Any], int | None]
    needs_split: bool = False
    extras: tuple[str, ...] = ()


def _entry(module, run, opts_cls, needs_split=False, extras=()) -> Backend:
    return Backend(run, opts_cls, module.status_checks, module.iterations, needs_split, tuple(extras))


_MAP_EXTRAS = ("residual_fn", "logprior_fn", "start_fn")


BACKENDS: dict[str, Backend] = {
    "map": _entry(map_backend, map_backend.run_map, map_backend.MAPOpts, extras=_MAP_EXTRAS),
    "laplace": _entry(laplace, laplace.run_laplace, laplace.LaplaceOpts, extras=_MAP_EXTRAS),
    "pathfinder": _entry(pathfinder, pathfinder.run_pathfinder, pathfinder.PathfinderOpts),
    "nuts": _entry(nuts, nuts.run_nuts, nuts.NUTSOpts),
    "vi": _entry(vi, vi.run_vi, vi.VIOpts),
    "ns": _entry(ns, ns.run_ns, ns.NSOpts, needs_split=True),
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


def bind(name: str, target: Target, opts=None, **overrides) -> Callable:
    """``fn(key, data) -> dict``: the backend with target and opts bound (not jitted)."""
    opts = make_opts(name, opts, **overrides)
    run = BACKENDS[name].run
    kwargs: dict[str, Any] = dict(
        logdensity_fn=target.logdensity_fn, init_fn=target.init_fn, opts=opts
    )
    if name in NEEDS_SPLIT:
        if target.logprior_fn is None:
            raise ValueError(f"backend {name!r} needs target.logprior_fn")
        kwargs.update(logprior_fn=target.logprior_fn, loglik_fn=target.loglik_fn)
    for field in BACKENDS[name].extras:
        if getattr(target, field) is not None:
            kwargs[field] = getattr(target, field)

    def fn(key, data):
        return run(key, data=data, **kwargs)

    return fn


def _compile_and_run(fn, *args):
    t0 = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = compiled(*args)
    out = jax.block_until_ready(out)
    run_s = time.perf_counter() - t0
    return out, compile_s, run_s


def run_backend(name: str, key, target: Target, data, opts=None, **overrides):
    """Fit one galaxy.  Returns ``(raw dict, compile_s, run_s)``.

    ``compile_s`` is the ``jit(...).lower(...).compile()`` time, ``run_s`` the time
    of the compiled call up to ``block_until_ready``.
    """
    return _compile_and_run(bind(name, target, opts, **overrides), key, data)


def run_backend_batch(name: str, keys, target: Target, data_batched, opts=None, **overrides):
    """Fit a batch of galaxies in one compiled program: ``jit(vmap(fn))(keys, data)``.

    ``keys`` has a leading galaxy axis (``jax.random.split(key, n_gal)``) and every
    leaf of ``data_batched`` has the same leading axis.  Every output array gains
    that leading axis.  Returns ``(raw dict, compile_s, run_s)``.
    """
    fn = bind(name, target, opts, **overrides)
    return _compile_and_run(jax.vmap(fn), keys, data_batched)
