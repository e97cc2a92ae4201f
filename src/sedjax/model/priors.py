"""Prior distributions with bijections to an unconstrained space.

Every prior maps a physical value ``x`` to an unconstrained ``u ∈ ℝ`` and back;
``from_unconstrained`` also returns ``log|dx/du|`` so a density in ``x`` becomes a density
in ``u``. All methods are pure JAX and jit/grad/vmap-safe.

=================  ======================  =====================================
prior              support                 bijection x(u)
=================  ======================  =====================================
``Uniform``        (low, high)             low + (high−low)·sigmoid(u)
``LogUniform``     (low, high), low > 0    exp(ln low + (ln high − ln low)·sigmoid(u))
``Normal``         ℝ                       x = mu + sigma·u
``Fixed``          {value}                 not free: no u
=================  ======================  =====================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp


def _log_sigmoid_jac(u):
    # log(sigmoid(u) * (1 - sigmoid(u))), stable for large |u|
    return jax.nn.log_sigmoid(u) + jax.nn.log_sigmoid(-u)


@dataclass(frozen=True)
class Uniform:
    """Uniform prior on (low, high)."""

    low: float
    high: float

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low):
            raise ValueError(f"Uniform(low={self.low}, high={self.high}): need finite low < high")

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        return jnp.where(inside, -math.log(self.high - self.low), -jnp.inf)

    def sample(self, key, shape=()):
        return jax.random.uniform(key, shape, minval=self.low, maxval=self.high)

    def to_unconstrained(self, x):
        p = (x - self.low) / (self.high - self.low)
        return jnp.log(p) - jnp.log1p(-p)

    def from_unconstrained(self, u):
        x = self.low + (self.high - self.low) * jax.nn.sigmoid(u)
        return x, math.log(self.high - self.low) + _log_sigmoid_jac(u)


@dataclass(frozen=True)
class LogUniform:
    """Prior uniform in ln x on (low, high), low > 0."""

    low: float
    high: float

    def __post_init__(self):
        if not (self.low > 0 and self.high > self.low and math.isfinite(self.high)):
            raise ValueError(f"LogUniform(low={self.low}, high={self.high}): need 0 < low < high")

    def log_prob(self, x):
        inside = (x >= self.low) & (x <= self.high)
        xs = jnp.where(inside, x, self.low)
        return jnp.where(inside, -jnp.log(xs) - math.log(math.log(self.high / self.low)), -jnp.inf)

    def sample(self, key, shape=()):
        lo, hi = math.log(self.low), math.log(self.high)
        return jnp.exp(jax.random.uniform(key, shape, minval=lo, maxval=hi))

    def to_unconstrained(self, x):
        lo, hi = math.log(self.low), math.log(self.high)
        p = (jnp.log(x) - lo) / (hi - lo)
        return jnp.log(p) - jnp.log1p(-p)

    def from_unconstrained(self, u):
        lo, hi = math.log(self.low), math.log(self.high)
        lnx = lo + (hi - lo) * jax.nn.sigmoid(u)
        return jnp.exp(lnx), lnx + math.log(hi - lo) + _log_sigmoid_jac(u)


@dataclass(frozen=True)
class Normal:
    """Gaussian prior N(mu, sigma²) on ℝ."""

    mu: float
    sigma: float

    def __post_init__(self):
        if not (self.sigma > 0 and math.isfinite(self.mu)):
            raise ValueError(f"Normal(mu={self.mu}, sigma={self.sigma}): need sigma > 0")

    def log_prob(self, x):
        z = (x - self.mu) / self.sigma
        return -0.5 * z * z - math.log(self.sigma) - 0.5 * math.log(2 * math.pi)

    def sample(self, key, shape=()):
        return self.mu + self.sigma * jax.random.normal(key, shape)

    def to_unconstrained(self, x):
        return (x - self.mu) / self.sigma

    def from_unconstrained(self, u):
        return self.mu + self.sigma * u, jnp.full(jnp.shape(u), math.log(self.sigma))


@dataclass(frozen=True)
class Fixed:
    """A parameter held at ``value`` (not free)."""

    value: float


PRIOR_KINDS = {"uniform": Uniform, "log_uniform": LogUniform, "normal": Normal, "fixed": Fixed}


def prior_from_config(name: str, entry):
    """Build a prior from its YAML form.

    Accepted forms: a bare number (``0.1`` → Fixed), ``{fixed: 0.1}``,
    ``{uniform: [low, high]}``, ``{log_uniform: [low, high]}``, ``{normal: [mu, sigma]}``.
    """
    if isinstance(entry, (int, float)) and not isinstance(entry, bool):
        return Fixed(float(entry))
    if isinstance(entry, (Uniform, LogUniform, Normal, Fixed)):
        return entry
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ValueError(
            f"parameter {name!r}: prior must be a number or a one-key mapping such as "
            f"{{uniform: [low, high]}}; got {entry!r}"
        )
    (kind, args), = entry.items()
    if kind not in PRIOR_KINDS:
        raise ValueError(
            f"parameter {name!r}: unknown prior {kind!r}; use one of {sorted(PRIOR_KINDS)}"
        )
    try:
        if kind == "fixed":
            return Fixed(float(args))
        if not isinstance(args, (list, tuple)) or len(args) != 2:
            raise ValueError(f"{kind} needs two numbers, e.g. {{{kind}: [a, b]}}")
        return PRIOR_KINDS[kind](float(args[0]), float(args[1]))
    except (TypeError, ValueError) as e:
        raise ValueError(f"parameter {name!r}: {e}") from None


def prior_to_config(prior):
    """Inverse of :func:`prior_from_config` (for metadata)."""
    if isinstance(prior, Fixed):
        return {"fixed": prior.value}
    if isinstance(prior, Uniform):
        return {"uniform": [prior.low, prior.high]}
    if isinstance(prior, LogUniform):
        return {"log_uniform": [prior.low, prior.high]}
    return {"normal": [prior.mu, prior.sigma]}


def prior_range(prior) -> tuple[float, float]:
    """The values a prior can take, (low, high): its bounds (a Fixed prior's value twice), or
    a Normal's mean ± 5 sigma (floored at 1e-4, for a redshift)."""
    if isinstance(prior, Fixed):
        return float(prior.value), float(prior.value)
    if isinstance(prior, (Uniform, LogUniform)):
        return float(prior.low), float(prior.high)
    if isinstance(prior, Normal):
        return max(prior.mu - 5 * prior.sigma, 1e-4), prior.mu + 5 * prior.sigma
    raise TypeError(f"unsupported prior {prior!r}")
