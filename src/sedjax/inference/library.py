"""Prior library for MAP starts: fast-mode photometry of many prior draws, amplitude solved.

Built once per (model, redshift) outside the per-galaxy program (:func:`build_prior_library`):
``n_draws`` draws from the spec's prior, their u-space positions and fast-mode band fluxes
at the model's fixed redshift. Per galaxy (:func:`library_starts`, pure JAX, vmap-able), the
photometry is linear in ``A = 10**x`` with ``x`` the SFH normalisation parameter
(``spec.norm_param``, stellar and nebular light alike), so each entry's best amplitude is
closed-form::

    A* = sum_b w_b f_b p_b / sum_b w_b p_b^2,   w_b = m_b / e_b^2

and the entry's normalisation moves to ``x + log10 A*`` (clipped into the prior's support;
the chi2 is then evaluated at the clipped amplitude). The ``k`` entries of lowest chi2 are
the starts. The chi2 uses the catalogue errors only (no ``sys_frac`` floor): it ranks starts,
it is not the likelihood.

A library is built at the model's fixed redshift. When the model's galaxies sit at their
own redshifts (its ``z_range`` is wider than a point: catalogue or mock redshifts with
per-galaxy tables), the same draws are also observed at nodes ``LIBRARY_DLNZ`` apart in
ln(1+z) over that range (:func:`library_redshifts`), and each galaxy ranks the entries at
the node nearest its redshift. A library of the fixed redshift alone gave such galaxies
starts at the wrong redshift. One-off check (2026-12-03, one core): 300 mock galaxies at
z = 0.03-1.4 (5 % errors, one band masked for 30 % of them), model z = 0.1, five LM
settings, each galaxy's best of the five as the reference. With the fixed-z library,
bench_map's ``secant`` setting put 68 % within 0.1 of it (96 % for |dz| < 0.1, 58 % for
|dz| > 0.6; worst 605) and the ``map`` backend's defaults 85 % (worst 333). With 16 nodes
(built in 15 s, the redshift tables included): ``secant`` 97.7 % (worst 0.67), the
defaults 99.3 % (worst 0.20); float32 iterations as float64. ``data["init_library"]`` (a
:func:`build_prior_library` dict) takes precedence over the model's library.
A spec with a free redshift (photo-z) gets a library whose draws include the redshift, each
observed at its own z (the free-z tables, :data:`~sedjax.model.table_grid.FREE_Z_DLNZ`).
Its starts are not the k lowest chi2 entries, which for a galaxy with two redshift solutions
would all sit in one of them: the entries are binned in ln(1+z) (``LIBRARY_Z_BINS`` bins over
the prior's range), the lowest chi2 per bin is a coarse profile chi2(z), and the starts are
the best entries of its local minima, lowest first (then of the other bins, lowest first).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sedjax.model.table_grid import grid_nodes

LIBRARY_KEYS = ("u", "flux", "norm")
LIBRARY_Z_BINS = 32
"""Bins in ln(1+z) of a free-redshift library's coarse chi2(z) profile."""
LIBRARY_DLNZ = 0.05
"""Node spacing in ln(1+z) of a library for galaxies at their own redshifts (at most 16
nodes; each costs ~0.4 s to build for 10^4 draws on one core)."""


def library_redshifts(model, dlnz: float = LIBRARY_DLNZ, max_nodes: int = 16):
    """Redshifts to build a model's library at: None when its galaxies all sit at its fixed
    redshift (``z_range`` a point), else nodes equally spaced in ln(1+z) over ``z_range``
    (spacing <= ``dlnz``, or ``max_nodes``) plus the fixed redshift itself."""
    lo, hi = model.z_range
    if model.fixed_redshift is None or not lo < hi:
        return None
    return np.unique(np.append(grid_nodes(lo, hi, dlnz, max_nodes), model.fixed_redshift))


def build_prior_library(model, n_draws: int = 10_000, seed: int = 0, batch_size: int = 1000,
                        redshifts=None) -> dict:
    """``{"u": (n, d), "flux": (n, n_band), "norm": (n,)}`` at the model's fixed redshift (NumPy).

    ``norm`` is the normalisation parameter's physical value of each draw. With
    ``redshifts`` (n_z,) the same draws are observed at each of them instead (fast-mode
    tables from :meth:`~sedjax.model.sed_model.SEDModel.tables_for`): ``flux`` is
    (n_z, n, n_band) and ``redshift`` (n_z,) is added; a galaxy then ranks the entries at the
    node nearest its redshift in ln(1+z) (:func:`library_starts`). A free-redshift spec: each
    draw observed at its own redshift, with ``z`` (n,) and ``z_bin`` (n,), its bin of
    ``LIBRARY_Z_BINS`` in ln(1+z) over the prior's range (``redshifts`` must then be None).
    Draws with a non-finite flux anywhere are dropped. Raises ``ValueError`` for
    ``n_draws < 1``.
    """
    spec = model.spec
    z_free = "redshift" in spec.free_params
    if z_free and redshifts is not None:
        raise ValueError("a free-redshift library observes each draw at its own z: give no redshifts")
    if z_free:  # each draw gathers its interpolated tables: smaller batches bound the memory
        batch_size = min(batch_size, 100)
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    norm = spec.norm_param

    # a free redshift: the model's redshift grid as an argument (as a constant, its ~10^8
    # numbers made the library's compile minutes long)
    grid = model.z_tables.grid() if z_free and model.z_tables is not None else None

    def one(p, grid):
        flux = model.predict_photometry(p, mode="fast", tables=grid)
        return spec.to_unconstrained(p), flux, jnp.asarray(p[norm], flux.dtype), jnp.asarray(p["redshift"], flux.dtype)

    def at_z(d, z, tables):
        return jax.lax.map(lambda p: model.predict_photometry(dict(p, redshift=z), mode="fast", tables=tables), d,
                           batch_size=batch_size)

    def draw_and_observe(key, grid):
        draws = spec.sample_batch(key, int(n_draws))
        return (draws, *jax.lax.map(lambda p: one(p, grid), draws, batch_size=batch_size))

    # Concrete even when first asked for while a backend is being traced: each program is
    # traced and compiled on its own (``lower().compile()``, where the model's arrays are
    # constants, not op-by-op evaluations that compile a small program each, every process)
    # and run on concrete arguments. Drawing and observing are one program, big enough for
    # the persistent compilation cache to keep.
    with jax.ensure_compile_time_eval():
        key = jax.random.PRNGKey(seed)
    draws, u, flux, x, z_draw = jax.jit(draw_and_observe).lower(key, grid).compile()(key, grid)
    u, flux, x, z_draw = (np.asarray(a) for a in (u, flux, x, z_draw))
    if redshifts is not None:
        zs = np.asarray(redshifts, dtype=np.float64)
        compiled: dict = {}  # one program per argument signature (every node's tables alike: one)
        fluxes = []
        for z in zs:
            with jax.ensure_compile_time_eval():
                args = (draws, jnp.asarray(z, model.dtype), model.tables_for(z) or model.own_tables)
            leaves, tree = jax.tree.flatten(args)
            sig = (tree, tuple(jax.typeof(a) for a in leaves))
            if sig not in compiled:
                compiled[sig] = jax.jit(at_z).lower(*args).compile()
            fluxes.append(np.asarray(compiled[sig](*args)))
        flux = np.stack(fluxes)
    finite = np.all(np.isfinite(flux.reshape(-1, *flux.shape[-2:])), axis=(0, 2)) & np.all(np.isfinite(u), axis=1)
    out = {"u": u[finite], "flux": flux[..., finite, :], "norm": x[finite]}
    if redshifts is not None:
        out["redshift"] = zs
    if z_free:
        out["z"] = z_draw[finite]
        out["z_bin"] = redshift_bins(out["z"], model.z_range)
    return out


def redshift_bins(z, z_range, n_bins: int = LIBRARY_Z_BINS) -> np.ndarray:
    """Each redshift's bin (int32) of ``n_bins`` equal in ln(1+z) over ``z_range``."""
    a, b = np.log1p(z_range[0]), np.log1p(z_range[1])
    width = (b - a) / n_bins if b > a else 1.0
    return np.clip(np.floor((np.log1p(np.asarray(z, np.float64)) - a) / width), 0, n_bins - 1).astype(np.int32)


def profile_minima(chi2, z_bin, k: int, n_bins: int = LIBRARY_Z_BINS):
    """Indices (k,) of the entries that start a free-redshift fit: each bin's lowest ``chi2``
    (the coarse profile chi2(z)), the bins that are local minima of the profile first, lowest
    first, then the other bins; a bin without entries is never picked (the overall best
    stands in when fewer than ``k`` bins hold any). Pure, vmap-able."""
    n = chi2.shape[0]
    big = jnp.finfo(chi2.dtype).max
    prof = jax.ops.segment_min(chi2, z_bin, num_segments=n_bins)
    first = jax.ops.segment_min(jnp.where(chi2 <= prof[z_bin], jnp.arange(n), n), z_bin, num_segments=n_bins)
    empty = first >= n
    prof = jnp.where(empty, big, prof)
    pad = jnp.full((1,), big, prof.dtype)
    left, right = jnp.concatenate([pad, prof[:-1]]), jnp.concatenate([prof[1:], pad])
    is_min = (prof <= left) & (prof <= right) & ~empty
    order = jnp.lexsort((prof, empty, ~is_min))[:k]
    return jnp.where(empty[order], jnp.argmin(chi2), first[order])


def smallest_k(values, k: int):
    """Indices of the ``k`` smallest of a 1-d array, smallest first (as ``lax.top_k(-values, k)``).

    XLA's CPU ``top_k`` sorts the whole array: over a 10^4-entry library that was 3.3 ms per
    galaxy under ``vmap``, a fifth of a batched LM MAP. Here the array is cut into rows of
    ~sqrt(n); the ``k`` smallest entries lie in the ``k`` rows of smallest minimum, so ``top_k``
    runs on the row minima and then on those rows' entries (0.35 ms). Padding is ``+inf``:
    callers map non-finite values to a finite maximum first so that padding is never picked.
    Arrays with fewer than ``k`` rows use ``top_k`` directly.
    """
    n = values.shape[0]
    width = max(int(np.ceil(np.sqrt(n))), 1)
    n_rows = -(-n // width)
    if n_rows < k:
        return jax.lax.top_k(-values, k)[1]
    padded = jnp.concatenate([values, jnp.full((n_rows * width - n,), jnp.inf, values.dtype)])
    table = padded.reshape(n_rows, width)
    _, rows = jax.lax.top_k(-table.min(axis=1), k)
    index = rows[:, None] * width + jnp.arange(width)[None, :]
    _, pick = jax.lax.top_k(-table[rows].reshape(-1), k)
    return index.reshape(-1)[pick]


def _best_amplitudes(lib_f, x_lib, w, f, norm_prior):
    """Each entry's best amplitude ``A*`` (clipped into the prior's support) and its chi2."""
    num = lib_f @ (w * f)  # sum_b w f p and sum_b w p^2 per entry: two matrix-vector products
    den = (lib_f**2) @ w
    if x_lib is None:
        amp = jnp.ones(lib_f.shape[0], lib_f.dtype)
    else:
        amp_star = jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 1.0)
        amp = jnp.maximum(amp_star, jnp.finfo(lib_f.dtype).tiny)
        lo, hi = getattr(norm_prior, "low", None), getattr(norm_prior, "high", None)
        if lo is not None and hi is not None:
            # the clip of x + log10 A into the support, done on A: the bounds depend on the
            # library only (computed once, not per galaxy), and no logarithm per entry
            pad = 1e-6 * (hi - lo)
            amp = jnp.clip(amp, 10.0 ** (lo + pad - x_lib), 10.0 ** (hi - pad - x_lib))
    # sum_b w (f - A p)^2 expanded: no (entries x bands) array per galaxy (under vmap over
    # 1 000 galaxies that array held 10^8 numbers and cost most of the library's time)
    return amp, jnp.sum(w * f**2) - 2.0 * amp * num + amp**2 * den


def library_starts(library: dict, data: dict, k: int, norm_index: int | None, norm_prior=None):
    """The ``k`` best-chi2 library entries for one galaxy, amplitude solved: ``(k, d)`` u starts.

    ``norm_index``: position of the normalisation parameter in u (None: it is fixed, no
    amplitude solve); ``norm_prior``: its prior (``to_unconstrained``, and ``low``/``high``
    when bounded, for the clip).

    The entries are ranked in float32, on fluxes divided by the library's largest (so that
    ``w = m / e^2`` stays in range; ``A*`` and chi2 do not change): the chi2 only orders the
    starts, and under ``vmap`` float32 halves the matrix products and XLA's CPU ``top_k`` is
    ~20x faster than in float64 (12 against 243 us per galaxy over 10^4 entries). The
    picked entries' amplitudes are then solved again in the data's precision.
    """
    flux = library["flux"]
    lib_u, lib_f = jnp.asarray(library["u"]), jnp.asarray(flux)
    if isinstance(flux, np.ndarray):  # the model's own library: scaled and cast once, in NumPy
        c = float(np.max(np.abs(flux)))
        rank_f = jnp.asarray((flux / c).astype(np.float32))
    else:  # a library in the data (traced)
        c = jnp.max(jnp.abs(lib_f))
        rank_f = (lib_f / c).astype(jnp.float32)
    node = ()
    if "redshift" in library:  # the node nearest the galaxy's redshift in ln(1+z)
        node_z = jnp.log1p(jnp.asarray(library["redshift"], lib_f.dtype))
        node = (jnp.argmin(jnp.abs(node_z - jnp.log1p(data["redshift"]))),)
    f, e, m = data["flux"], data["flux_err"], data["mask"]
    w = m / e**2
    x_lib = None if norm_index is None else jnp.asarray(library["norm"])
    f32 = lambda a: None if a is None else a.astype(jnp.float32)  # noqa: E731
    _, chi2 = _best_amplitudes(rank_f[node], f32(x_lib), f32(w * c**2), f32(f / c), norm_prior)
    chi2 = jnp.where(jnp.isfinite(chi2), chi2, jnp.finfo(jnp.float32).max)
    if "z_bin" in library:  # a free redshift: the local minima of the coarse chi2(z) profile
        idx = profile_minima(chi2, jnp.asarray(library["z_bin"]), k)
    else:
        idx = smallest_k(chi2, k)
    starts = lib_u[idx]
    if norm_index is not None:
        amp, _ = _best_amplitudes(lib_f[node + (idx,)], x_lib[idx], w, f, norm_prior)
        x_new = x_lib[idx] + jnp.log10(amp)
        starts = starts.at[:, norm_index].set(norm_prior.to_unconstrained(x_new))
    return starts


def make_start_fn(model, n_draws: int = 10_000, seed: int = 0):
    """``start_fn(data, k) -> (k, d)`` for :class:`sedjax.inference.Target`, or None.

    None when ``n_draws`` is 0. The library is built on the first call (at trace time,
    outside the per-galaxy program) and kept; ``data["init_library"]`` overrides it.
    """
    spec = model.spec
    if n_draws < 1:
        return None
    norm = spec.norm_param
    norm_index = spec.free_params.index(norm) if norm in spec.free_params else None
    norm_prior = spec.priors[norm] if norm_index is not None else None
    cache: dict = {}

    def start_fn(data, k):
        lib = data.get("init_library") if hasattr(data, "get") else None
        if lib is None:
            if "lib" not in cache:
                cache["lib"] = build_prior_library(model, n_draws, seed, redshifts=library_redshifts(model))
            lib = cache["lib"]
        return library_starts(lib, data, k, norm_index, norm_prior)

    return start_fn
