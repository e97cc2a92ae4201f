"""Log-likelihood and its gradient on a 2-D slice of parameter space.

:func:`grad_field_grid` evaluates the Gaussian photometric log-likelihood of one galaxy on
an ``n × n`` grid of two parameters (all others held at ``truth_params``) and its
gradient with respect to those two parameters. The whole grid is one
``jax.jit(jax.vmap(jax.grad(...)))`` call (and one ``jax.vmap`` of the value): no Python
loop over grid points. The result is a dict of NumPy arrays, saved by
:func:`save_grad_field` as ``.npz`` or HDF5 and read back by :func:`load_grad_field`.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.inference.posterior import gaussian_loglik
from sedjax.io.atomic import atomic_output
from sedjax.model.priors import Fixed, LogUniform, Normal, Uniform


def slice_range(model, name: str, truth: float | None = None, inset: float = 1e-3) -> tuple[float, float]:
    """Default axis range of ``name``: its prior support (slightly inset from the edges).

    Normal priors give ``mu ± 3 sigma``; a fixed parameter gives ``truth ± 10%``.
    """
    prior = model.spec.priors[name]
    if isinstance(prior, (Uniform, LogUniform)):
        lo, hi = float(prior.low), float(prior.high)
    elif isinstance(prior, Normal):
        lo, hi = prior.mu - 3 * prior.sigma, prior.mu + 3 * prior.sigma
    elif isinstance(prior, Fixed):
        v = float(prior.value if truth is None else truth)
        d = 0.1 * abs(v) or 0.1
        lo, hi = v - d, v + d
    else:  # pragma: no cover - future prior types
        raise TypeError(f"no default range for the prior of {name!r}: {prior!r}")
    pad = inset * (hi - lo)
    return lo + pad, hi - pad


def gaussian_loglik_fn(model, obs, err, mask=None, mode: str = "fast", tables=None):
    """``loglik(params)``: :func:`sedjax.inference.posterior.gaussian_loglik` of the model's
    photometry at ``params`` (with its normalisation term, a constant on the slice)."""
    obs = jnp.asarray(obs, model.dtype)
    err = jnp.asarray(err, model.dtype)
    m = jnp.ones_like(obs) if mask is None else jnp.asarray(mask, model.dtype)

    def loglik(params):
        return gaussian_loglik(model.predict_photometry(params, mode=mode, tables=tables), obs, err, m)

    return loglik


def grad_field_grid(
    model,
    truth_params: dict,
    obs,
    err,
    x_name: str = "dust_tau_diff",
    y_name: str = "met_logzsol",
    n: int = 30,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    mask=None,
    mode: str = "fast",
    tables=None,
) -> dict:
    """Log-likelihood and its gradient on an ``n × n`` grid in (``x_name``, ``y_name``).

    Parameters
    ----------
    model : SEDModel
    truth_params : dict name -> scalar for every model parameter (fixed ones may be
        omitted); all parameters but ``x_name`` and ``y_name`` are held at these values
    obs, err : (n_band,) observed fluxes and 1σ errors, AB maggies
    x_name, y_name : the two parameters spanning the slice
    n : grid points per axis
    x_range, y_range : axis ranges; default :func:`slice_range` (the prior support)
    mask : (n_band,) optional band mask
    mode : photometry mode ("fast" or "exact")
    tables : fast-mode tables for a redshift other than the model's fixed one

    Returns
    -------
    dict of NumPy arrays: ``x`` (n,), ``y`` (n,), ``loglik`` (n, n) indexed [iy, ix],
    ``dloglik_dx`` and ``dloglik_dy`` (n, n), ``truth_x``, ``truth_y``, ``max_x``,
    ``max_y`` (grid maximum), ``obs``, ``err``, and string entries ``x_name``,
    ``y_name``, ``mode``, ``params_json`` (the held parameter values).
    """
    if x_name == y_name:
        raise ValueError("x_name and y_name must differ")
    full = {k: float(v) for k, v in model.spec.fixed_params.items()}
    full.update({k: float(v) for k, v in truth_params.items() if k in model.spec.priors})
    missing = [k for k in model.spec.priors if k not in full]
    if missing:
        raise ValueError(f"truth_params lacks {missing}")
    for name in (x_name, y_name):
        if name not in model.spec.priors:
            raise ValueError(f"{name!r} is not a model parameter; known: {sorted(model.spec.priors)}")
    xr = x_range or slice_range(model, x_name, full[x_name])
    yr = y_range or slice_range(model, y_name, full[y_name])
    x = np.linspace(xr[0], xr[1], int(n))
    y = np.linspace(yr[0], yr[1], int(n))
    xx, yy = np.meshgrid(x, y)  # [iy, ix]
    base = {k: jnp.asarray(v, model.dtype) for k, v in full.items()}
    loglik = gaussian_loglik_fn(model, obs, err, mask=mask, mode=mode, tables=tables)

    def ll_xy(xv, yv):
        return loglik({**base, x_name: xv, y_name: yv})

    value = jax.jit(jax.vmap(ll_xy))
    grad = jax.jit(jax.vmap(jax.grad(ll_xy, argnums=(0, 1))))
    xs = jnp.asarray(xx.ravel(), model.dtype)
    ys = jnp.asarray(yy.ravel(), model.dtype)
    ll = np.asarray(value(xs, ys), dtype=float).reshape(xx.shape)
    gx, gy = (np.asarray(g, dtype=float).reshape(xx.shape) for g in grad(xs, ys))
    iy, ix = np.unravel_index(np.nanargmax(ll), ll.shape)
    return {
        "x": x,
        "y": y,
        "loglik": ll,
        "dloglik_dx": gx,
        "dloglik_dy": gy,
        "truth_x": np.float64(full[x_name]),
        "truth_y": np.float64(full[y_name]),
        "max_x": np.float64(x[ix]),
        "max_y": np.float64(y[iy]),
        "obs": np.asarray(obs, dtype=float),
        "err": np.asarray(err, dtype=float),
        "x_name": x_name,
        "y_name": y_name,
        "mode": mode,
        "params_json": json.dumps(full, sort_keys=True),
    }


def finite_difference_grad(model, truth_params, obs, err, x_name, y_name, x, y, h=1e-5, mode="fast", mask=None):
    """Central finite differences of the same log-likelihood at one point (for checks)."""
    full = {k: float(v) for k, v in model.spec.fixed_params.items()}
    full.update({k: float(v) for k, v in truth_params.items() if k in model.spec.priors})
    ll = jax.jit(gaussian_loglik_fn(model, obs, err, mask=mask, mode=mode))

    def at(xv, yv):
        return float(ll({**full, x_name: xv, y_name: yv}))

    return (at(x + h, y) - at(x - h, y)) / (2 * h), (at(x, y + h) - at(x, y - h)) / (2 * h)


_STRING_KEYS = ("x_name", "y_name", "mode", "params_json")


def save_grad_field(grid: dict, path, meta: dict | None = None) -> str:
    """Write a :func:`grad_field_grid` result atomically: ``.npz`` or ``.h5``/``.hdf5``.

    ``meta`` (JSON-serialisable) is stored as ``meta_json``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(grid)
    data["meta_json"] = json.dumps(meta or {}, sort_keys=True, default=str)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".h5", ".hdf5"):
        raise ValueError(f"{path}: use a .npz, .h5 or .hdf5 file name")
    with atomic_output(path, suffix) as tmp:
        if suffix == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(fh, **{k: np.asarray(v) for k, v in data.items()})
        else:
            import h5py

            with h5py.File(tmp, "w") as f:
                for k, v in data.items():
                    if isinstance(v, str):
                        f.attrs[k] = v
                    else:
                        f.create_dataset(k, data=np.asarray(v))
    return str(path)


def load_grad_field(path) -> dict:
    """Read a file written by :func:`save_grad_field` (strings back as ``str``, scalars as float)."""
    path = Path(path)
    out = {}
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                out[k] = z[k]
    else:
        import h5py

        with h5py.File(path, "r") as f:
            for k, v in f.attrs.items():
                out[k] = v
            for k in f:
                out[k] = f[k][()]
    for k, v in list(out.items()):
        a = np.asarray(v)
        if a.dtype.kind in "US" or isinstance(v, (str, bytes)):
            out[k] = v.decode() if isinstance(v, bytes) else str(a.item() if a.ndim == 0 else v)
        elif a.ndim == 0:
            out[k] = float(a)
    out["meta"] = json.loads(out.pop("meta_json", "{}") or "{}")
    out["params"] = json.loads(out.get("params_json", "{}") or "{}")
    return out


__all__ = [
    "finite_difference_grad",
    "gaussian_loglik_fn",
    "grad_field_grid",
    "load_grad_field",
    "save_grad_field",
    "slice_range",
]
