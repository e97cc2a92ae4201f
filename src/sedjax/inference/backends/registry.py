"""Backend registry and the Python-level drivers (jit, timing, vmap over galaxies)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, NamedTuple

import jax

from ._common import Target
from .laplace import LaplaceOpts, run_laplace
from .map import MAPOpts, run_map
from .ns import NSOpts, run_ns
from .nuts import NUTSOpts, run_nuts
from .pathfinder import PathfinderOpts, run_pathfinder
from .vi import VIOpts, run_vi


class Backend(NamedTuple):
    """A registry entry; unpacks as ``run, Opts = BACKENDS[name]``."""

    run: Callable
    opts_cls: type


BACKENDS: dict[str, Backend] = {
    "map": Backend(run_map, MAPOpts),
    "laplace": Backend(run_laplace, LaplaceOpts),
    "pathfinder": Backend(run_pathfinder, PathfinderOpts),
    "nuts": Backend(run_nuts, NUTSOpts),
    "vi": Backend(run_vi, VIOpts),
    "ns": Backend(run_ns, NSOpts),
}

# backends that need the prior and the likelihood separately
NEEDS_SPLIT = frozenset({"ns"})


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
