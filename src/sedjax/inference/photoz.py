"""Photometric-redshift summaries of posterior draws: p(z) on a grid, its modes, the best mode's mass.

A free-redshift fit's ``redshift`` draws are summarised (besides the median and 16/84 of
every parameter) by :func:`redshift_summary`:

- ``pz``: the posterior density of z on ``PZ_GRID`` bins equal in ln(1+z) over the model's
  range (``pz_z``: the bin centres; ``pz`` integrates to 1 in z);
- the modes: local maxima of ``pz`` smoothed by a Gaussian of ``SMOOTH_BINS`` bins, at least
  ``MIN_PEAK_FRAC`` of the highest; two neighbouring peaks are one mode unless the lowest
  point between them is below ``VALLEY_FRAC`` of the lower peak and that dip is larger than
  ``VALLEY_SIGMAS`` Poisson standard deviations of the lower peak's count (so that a few hundred
  draws do not make noise peaks modes). Each mode's region ends at
  the lowest point between it and its neighbour; ``z_n_modes`` counts the modes,
  ``z_best_mode`` is the highest peak's z and ``z_best_mode_prob`` the posterior mass of its
  region (1 for a unimodal p(z)).
"""

from __future__ import annotations

import numpy as np

PZ_GRID = 100
SMOOTH_BINS = 1.0
MIN_PEAK_FRAC = 0.05
VALLEY_FRAC = 0.5
VALLEY_SIGMAS = 3.0
PZ_KEYS = ("pz_z", "pz", "z_n_modes", "z_best_mode", "z_best_mode_prob")


def pz_grid(z_range, n_grid: int = PZ_GRID):
    """``(edges (n_grid + 1,), centres (n_grid,))`` in z, equal in ln(1+z) over ``z_range``."""
    edges = np.expm1(np.linspace(np.log1p(z_range[0]), np.log1p(z_range[1]), n_grid + 1))
    return edges, 0.5 * (edges[1:] + edges[:-1])


def _smooth(h, sigma_bins):
    if sigma_bins <= 0:
        return h
    half = int(np.ceil(4 * sigma_bins))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma_bins) ** 2)
    return np.convolve(np.pad(h, half, mode="constant"), k / k.sum(), mode="valid")


def mode_regions(counts):
    """``[(lo, hi, peak), ...]`` bin ranges (hi exclusive) of the modes of a histogram of
    ``counts`` (draws per bin; module docstring), in order of z."""
    s = _smooth(np.asarray(counts, np.float64), SMOOTH_BINS)
    n = s.size
    if not np.any(s > 0):
        return []
    padded = np.concatenate([[-np.inf], s, [-np.inf]])
    peaks = [i for i in range(n) if padded[i + 1] > padded[i] and padded[i + 1] >= padded[i + 2]]
    peaks = [i for i in peaks if s[i] >= MIN_PEAK_FRAC * s.max()]
    merged = [peaks[0]]
    for p in peaks[1:]:
        q = merged[-1]
        valley, low = s[q:p + 1].min(), min(s[q], s[p])
        if valley >= VALLEY_FRAC * low or low - valley <= VALLEY_SIGMAS * np.sqrt(low):
            merged[-1] = q if s[q] >= s[p] else p  # one mode: keep the higher peak
        else:
            merged.append(p)
    cuts = [0] + [a + int(np.argmin(s[a:b + 1])) for a, b in zip(merged[:-1], merged[1:])] + [n]
    return [(cuts[i], cuts[i + 1], merged[i]) for i in range(len(merged))]


def redshift_summary(z_samples, z_range, n_grid: int = PZ_GRID) -> dict:
    """p(z) on the grid and its modes for one galaxy's redshift draws (module docstring);
    NaN draws are ignored (all NaN: NaN summaries, 0 modes)."""
    z = np.asarray(z_samples, np.float64).ravel()
    z = z[np.isfinite(z)]
    edges, centres = pz_grid(z_range, n_grid)
    if z.size == 0:
        return {"pz_z": centres, "pz": np.full(n_grid, np.nan), "z_n_modes": 0, "z_best_mode": np.nan,
                "z_best_mode_prob": np.nan}
    counts, _ = np.histogram(np.clip(z, edges[0], edges[-1]), bins=edges)
    mass = counts / z.size
    regions = mode_regions(counts)
    best = max(regions, key=lambda r: _smooth(mass, SMOOTH_BINS)[r[2]])
    return {"pz_z": centres, "pz": mass / np.diff(edges), "z_n_modes": len(regions),
            "z_best_mode": float(centres[best[2]]), "z_best_mode_prob": float(mass[best[0]:best[1]].sum())}
