"""Shared pieces of the backend contract.

Every backend is a pure JAX function

    run_<name>(key, logdensity_fn, data, init_fn, opts) -> dict[str, Array]

* ``logdensity_fn(u, data) -> scalar``: log posterior (up to a constant) in an
  unconstrained space, ``u`` of shape ``(d,)``.  ``data`` is an arbitrary pytree
  of arrays (one galaxy) and is only ever touched through this function.
* ``init_fn(key) -> (d,)``: one draw of an initial position (the prior in u space).
* ``opts``: a frozen dataclass of Python scalars (hashable, static under jit).

Nested sampling additionally needs the prior and the likelihood separately; it
takes them as keyword arguments ``loglik_fn(u, data)`` and ``logprior_fn(u, data)``
(the u-space prior, i.e. including the log-Jacobian of the u -> theta map).  The
:class:`Target` bundle carries all four callables so that the Python layer
(:func:`sedjax.inference.run_backend`) can drive every backend uniformly.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import jax


class LinearAmplitude(NamedTuple):
    """A least-squares likelihood that is linear in one amplitude: ``r(u) = z - A(u) p(u)``.

    ``index``: the coordinate ``k`` that ``A`` depends on (alone); ``log_amplitude_fn(u)``:
    ``ln A``; ``zero_residual_fn(data)``: ``z``, the whitened residuals at ``A = 0`` (constant
    in ``u``), or None. With ``z`` LM needs the Jacobian over the other coordinates only
    (``A p = z - r`` comes with every forward pass); without it, the full Jacobian.
    """

    index: int
    log_amplitude_fn: Callable
    zero_residual_fn: Optional[Callable] = None


class Kinks(NamedTuple):
    """A coordinate along which the log density is only piecewise smooth.

    ``index``: the coordinate of ``u``; ``nodes`` (n,): its values, in ``u``, where the first
    derivative jumps (the SED model's metallicity: the spectrum is interpolated linearly in
    log Z between the SSP grid's metallicities, so every grid metallicity inside the prior is
    a kink). A mode often sits on a kink, where LM's quadratic model fails across it; with
    the coordinate held at the node the rest is smooth (:func:`~sedjax.inference.backends.map.map_core`'s
    polishing).
    """

    index: int
    nodes: Any


class Target(NamedTuple):
    """Everything a backend may need about one posterior (minus the data).

    ``logdensity_fn``, ``loglik_fn`` and ``logprior_fn`` all take ``(u, data)``.
    ``logdensity_fn`` must equal ``loglik_fn + logprior_fn`` up to a constant when
    both are given.  ``loglik_fn`` may be omitted when ``logprior_fn`` is given:
    it then defaults to ``logdensity_fn - logprior_fn``.

    Optional structure, used by the MAP stage (:mod:`sedjax.inference.backends.lm`) and
    ignored by backends that do not list it (``Backend.extras`` in the registry):

    * ``residual_fn(u, data) -> (r, c)``: whitened residuals ``r`` (n_band,) and a scalar
      ``c`` with ``loglik_fn = -1/2 |r|^2 + c`` (a least-squares likelihood);
    * ``start_fn(data, k) -> (k, d)``: ``k`` good starting points (e.g. the best-chi2
      entries of a prior library, :mod:`sedjax.inference.library`);
    * ``linear_amplitude``: a :class:`LinearAmplitude` ``(k, log_amplitude_fn,
      zero_residual_fn)``: ``r`` is affine in ``A = exp(log_amplitude_fn(u))``, which depends
      on ``u[k]`` alone, and ``c`` does not depend on ``u[k]`` (LM's variable projection,
      :func:`sedjax.inference.backends.lm.lm_minimize`).

    * ``kinks``: a :class:`Kinks`, the coordinate and nodes where the log density's first
      derivative jumps (LM's polishing snaps the best point to its nearest node);

    * ``low_precision``: the same target in float32 (its model cast,
      :meth:`sedjax.model.sed_model.SEDModel.astype`; least-squares parts, no starts), for
      LM iterations at half precision (:class:`~sedjax.inference.MAPOpts` ``lm_dtype``).

    ``multimodal``: the posterior may have separated modes (a free redshift): ``is`` and
    ``auto`` then propose from a mixture over the MAP stage's distinct endpoints
    (:mod:`sedjax.inference.backends.mixture_is`).

    ``collapse``: the same posterior with the SFH normalisation integrated out
    (:class:`sedjax.inference.collapse.Collapse`), or None; the registry hands it to the
    backends marked ``collapsible`` and expands their draws back to the full ``u``.
    """

    logdensity_fn: Callable
    init_fn: Callable
    loglik_fn: Optional[Callable] = None
    logprior_fn: Optional[Callable] = None
    residual_fn: Optional[Callable] = None
    start_fn: Optional[Callable] = None
    collapse: Optional[Any] = None
    linear_amplitude: Optional[tuple] = None
    low_precision: Optional["Target"] = None
    kinks: Optional[Kinks] = None
    multimodal: bool = False


def bind_logdensity(logdensity_fn: Callable, data) -> Callable:
    """Close ``logdensity_fn`` over ``data``: returns ``u -> scalar``."""

    def f(u):
        return logdensity_fn(u, data)

    return f


def init_many(init_fn: Callable, key, n: int):
    """``n`` independent init draws, shape ``(n, d)``."""
    return jax.vmap(init_fn)(jax.random.split(key, n))
