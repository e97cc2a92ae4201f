"""Posterior figures of single-galaxy fits: corner plots and the SED with its posterior.

Inputs are :class:`~sedjax.inference.FitResult` objects (``FitResult.load_hdf5``), truth
dicts and, for the SED, the arrays of :mod:`sedjax.analysis.ppc`.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from sedjax.plotting.style import (
    TRUTH_COLOR,
    backend_color,
    backend_label,
    backend_marker,
    figure_style,
    label,
    symbol,
    note,
    order_backends,
    save_figure,
)

MAGGIE_TO_UJY = 3631e6  # 1 maggie = 3631 Jy
LEVELS_2D = (1 - np.exp(-0.5), 1 - np.exp(-2.0))  # 1σ and 2σ of a 2-D Gaussian


def _matrix(samples: dict, names) -> np.ndarray:
    """(n, d) finite rows of the named sample columns."""
    cols = np.column_stack([np.asarray(samples[n], dtype=float).ravel() for n in names])
    return cols[np.all(np.isfinite(cols), axis=1)]


def is_point_estimate(x: np.ndarray) -> bool:
    """True when draws cannot make a density (one draw, or a column without spread)."""
    if x.shape[0] < x.shape[1] + 2:
        return True
    return bool(np.any(np.ptp(x, axis=0) <= 0))


def _names(result, names=None) -> list[str]:
    if names is not None:
        return [n for n in names if n in result.samples]
    free = (result.meta.get("spec") or {}).get("params")
    order = [n for n in (free or {}) if n in result.samples]
    return order + [n for n in result.samples if n not in order]


def _truth_list(truths, names):
    if not truths:
        return None
    t = [truths.get(n) for n in names]
    return [float(v) if v is not None and np.isfinite(v) else None for v in t]


def _ranges(matrices, points, truths, names):
    """Shared axis ranges: central 99% of every sample set, the points and the truths."""
    lo = np.full(len(names), np.inf)
    hi = np.full(len(names), -np.inf)
    for x in matrices:
        lo = np.minimum(lo, np.percentile(x, 0.5, axis=0))
        hi = np.maximum(hi, np.percentile(x, 99.5, axis=0))
    for p in points:
        lo, hi = np.minimum(lo, p), np.maximum(hi, p)
    if truths:
        t = np.array([np.nan if v is None else v for v in truths], float)
        lo = np.where(np.isfinite(t), np.minimum(lo, t), lo)
        hi = np.where(np.isfinite(t), np.maximum(hi, t), hi)
    span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0) * 0.1)
    return [(a - 0.08 * s, b + 0.08 * s) for a, b, s in zip(lo, hi, span)]


def _prior_ranges(result, names):
    """Axis ranges from the uniform priors recorded in ``meta["spec"]`` (None if unknown)."""
    params = (result.meta.get("spec") or {}).get("params") or {}
    out = []
    for n in names:
        pr = params.get(n)
        if isinstance(pr, dict) and len(pr) == 1 and next(iter(pr)) in ("uniform", "log_uniform"):
            lo, hi = next(iter(pr.values()))
            out.append((float(lo), float(hi)))
        else:
            return None
    return out


def _rescale_diagonal(fig, d):
    """Diagonal histograms of overlaid corner calls: y range fitting every histogram."""
    axes = np.array(fig.axes).reshape(d, d)
    for i in range(d):
        ax = axes[i, i]
        ymax = 0.0
        for p in ax.patches:
            v = p.get_path().vertices
            if v.size:
                ymax = max(ymax, float(np.nanmax(v[:, 1])))
        if ymax > 0:
            ax.set_ylim(0, 1.08 * ymax)


def _n_draws(n: int) -> str:
    return "1 draw" if n == 1 else f"{n} draws"


def _point_grid(names, ranges, fig=None):
    """A corner-shaped grid of axes (lower triangle) without corner's histograms."""
    from matplotlib.ticker import MaxNLocator

    d = len(names)
    if fig is None:
        fig, axes = plt.subplots(d, d, figsize=(2.0 * d, 2.0 * d))
    else:
        axes = np.array(fig.axes).reshape(d, d)
    for i in range(d):
        for j in range(d):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            ax.set_xlim(ranges[j])
            ax.xaxis.set_major_locator(MaxNLocator(3, prune="both"))
            if i != j:
                ax.set_ylim(ranges[i])
                ax.yaxis.set_major_locator(MaxNLocator(3, prune="both"))
            else:
                ax.set_yticks([])
            if i == d - 1:
                ax.set_xlabel(label(names[j]))
                ax.tick_params(axis="x", labelrotation=45)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(label(names[i]))
            elif i != j:
                ax.set_yticklabels([])
    fig.subplots_adjust(left=0.12, bottom=0.12, right=0.98, top=0.93, wspace=0.06, hspace=0.06)
    return fig, axes


def _draw_points(axes, p, color, marker, size=60):
    d = len(p)
    for i in range(d):
        for j in range(i + 1):
            ax = axes[i, j]
            if i == j:
                ax.axvline(p[j], color=color, lw=1.5)
            else:
                ax.scatter([p[j]], [p[i]], s=size, color=color, marker=marker, zorder=5, edgecolor="white", lw=0.5)


def _draw_truths(axes, t):
    d = len(t)
    for i in range(d):
        for j in range(i + 1):
            if t[j] is None:
                continue
            ax = axes[i, j]
            ax.axvline(t[j], color=TRUTH_COLOR, lw=1.0, ls="--")
            if i != j and t[i] is not None:
                ax.axhline(t[i], color=TRUTH_COLOR, lw=1.0, ls="--")
                ax.plot(t[j], t[i], "s", color=TRUTH_COLOR, ms=4)


def _title_and_legend(fig, title, handles, legend_title=None):
    """Title and legend in the empty upper triangle of a corner figure."""
    fig.text(0.97, 0.985, title, ha="right", va="top", fontsize=15)
    fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.97, 0.95), fontsize=12,
               title=legend_title, title_fontsize=12)


def _status_text(result) -> str:
    if result.status == "ok":
        return ""
    return f" — status {result.status}" + (f" ({result.reason[:60]})" if result.reason else "")


def plot_corner(result, path, truths: dict | None = None, names=None, title: str | None = None,
                pdf: bool = False) -> list[str]:
    """Corner plot of one fit's posterior draws with the truth marked.

    Parameters
    ----------
    result : FitResult (physical samples)
    path : PNG path
    truths : {name: value}; default ``result.meta["truth"]``
    names : parameters to show (default: the free parameters in spec order)
    title : figure title (default: backend, galaxy id, number of draws)

    Point estimates (MAP: one draw) are drawn as a marker in a corner-shaped grid.
    """
    import corner

    names = _names(result, names)
    truths = result.meta.get("truth") if truths is None else truths
    t = _truth_list(truths, names)
    x = _matrix(result.samples, names)
    color = backend_color(result.backend)
    gid = result.meta.get("galaxy_id", "?")
    title = title or (f"{backend_label(result.backend)} — galaxy {gid} — {_n_draws(x.shape[0])}"
                      + _status_text(result))
    with figure_style(), plt.rc_context({"axes.grid": False}):
        if x.shape[0] == 0:
            fig, ax = plt.subplots(figsize=(6, 4))
            note(ax, f"{title}\nno finite posterior draw")
            return save_figure(fig, path, pdf=pdf)
        if is_point_estimate(x):
            ranges = _prior_ranges(result, names) or _ranges([], [xi for xi in x], t, names)
            fig, axes = _point_grid(names, ranges)
            for xi in x:
                _draw_points(axes, xi, color, backend_marker(result.backend))
            if t:
                _draw_truths(axes, t)
            handles = [Line2D([], [], color=color, marker=backend_marker(result.backend), ls="", label="point estimate"),
                       Line2D([], [], color=TRUTH_COLOR, ls="--", marker="s", ms=4, label="truth")]
        else:
            ranges = _ranges([x], [], t, names)
            fig = corner.corner(
                x, labels=[label(n) for n in names], truths=t, truth_color=TRUTH_COLOR, range=ranges,
                color=color, bins=30, smooth=1.0, levels=LEVELS_2D, plot_datapoints=False,
                fill_contours=True, quantiles=(0.16, 0.5, 0.84), show_titles=True, title_fmt=".2f",
                titles=[symbol(n) for n in names], title_kwargs={"fontsize": 10},
                label_kwargs={"fontsize": 11}, labelpad=0.08, max_n_ticks=3,
            )
            handles = [Line2D([], [], color=color, lw=2, label="posterior (1σ, 2σ contours; 16/50/84%)"),
                       Line2D([], [], color=TRUTH_COLOR, lw=1.5, label="truth")]
        _title_and_legend(fig, title, handles)
        return save_figure(fig, path, pdf=pdf)


def plot_corner_all(results: dict, path, truths: dict | None = None, names=None, title: str | None = None,
                    pdf: bool = True) -> list[str]:
    """Corner plot overlaying every backend's posterior for one galaxy.

    Parameters
    ----------
    results : {backend: FitResult} for the same galaxy
    truths : {name: value}; default the first result's ``meta["truth"]``

    Histograms are normalised per backend; point estimates (MAP) are markers.
    """
    import corner

    backends = order_backends(results)
    first = results[backends[0]]
    names = _names(first, names)
    truths = first.meta.get("truth") if truths is None else truths
    t = _truth_list(truths, names)
    mats = {b: _matrix(results[b].samples, names) for b in backends}
    dens = [b for b in backends if mats[b].shape[0] and not is_point_estimate(mats[b])]
    pts = [b for b in backends if mats[b].shape[0] and b not in dens]
    ranges = _ranges([mats[b] for b in dens], [p for b in pts for p in mats[b]], t, names)
    gid = first.meta.get("galaxy_id", "?")
    handles = []
    with figure_style(), plt.rc_context({"axes.grid": False}):
        fig = None
        for i, b in enumerate(dens):
            x = mats[b]
            color = backend_color(b, i)
            fig = corner.corner(
                x, fig=fig, labels=[label(n) for n in names], range=ranges, color=color, bins=25,
                smooth=1.2, levels=LEVELS_2D, plot_datapoints=False, plot_density=False,
                fill_contours=False, weights=np.full(x.shape[0], 1.0 / x.shape[0]),
                hist_kwargs={"density": False, "lw": 1.3}, contour_kwargs={"linewidths": 1.2},
                label_kwargs={"fontsize": 11}, labelpad=0.08, max_n_ticks=3,
            )
            status = "" if results[b].status == "ok" else f" [{results[b].status}]"
            handles.append(Line2D([], [], color=color, lw=2, label=f"{backend_label(b)}{status}"))
        if fig is None:
            fig, axes = _point_grid(names, ranges)
        axes = np.array(fig.axes).reshape(len(names), len(names))
        for b in pts:
            color = backend_color(b)
            for xi in mats[b]:
                _draw_points(axes, xi, color, backend_marker(b))
            status = "" if results[b].status == "ok" else f" [{results[b].status}]"
            handles.append(Line2D([], [], color=color, marker=backend_marker(b), ls="",
                                  label=f"{backend_label(b)} (point estimate){status}"))
        failed = [b for b in backends if mats[b].shape[0] == 0]
        if t:
            _draw_truths(axes, t)
            handles.append(Line2D([], [], color=TRUTH_COLOR, ls="--", marker="s", ms=4, label="truth"))
        if failed:
            handles.append(Line2D([], [], ls="", label="no finite draws: " + ", ".join(map(backend_label, failed))))
        _rescale_diagonal(fig, len(names))
        _title_and_legend(fig, title or f"Galaxy {gid}: posteriors of every backend", handles,
                          legend_title="1σ and 2σ contours")
        return save_figure(fig, path, pdf=pdf)


# ----------------------------------------------------------------------------- SED
def plot_sed(obs: dict, ppc: dict, path, truth: dict | None = None, title: str | None = None,
             pdf: bool = True) -> list[str]:
    """Observed photometry, posterior-predictive photometry and posterior spectra.

    Parameters
    ----------
    obs : :func:`sedjax.analysis.ppc.observed_photometry` dict (``wave_pivot_aa``,
        ``wave_range_aa``, ``flux``, ``flux_err``, ``mask``, ``bands``; ``true_flux``
        optional), maggies
    ppc : {backend: :func:`sedjax.analysis.ppc.posterior_spectra` dict}
    truth : :func:`sedjax.analysis.ppc.truth_spectrum` dict, optional (the mock's noise-free SED)

    Top: f_ν [µJy] vs observed wavelength [µm], the 16–84% posterior spectrum band and
    median per backend, the posterior-predictive band fluxes (median and 16–84%) and the
    observations. Bottom: (observed − predicted median) / σ per band and backend.
    """
    backends = order_backends(ppc)
    wp = np.asarray(obs["wave_pivot_aa"], float) / 1e4
    wr = np.asarray(obs["wave_range_aa"], float) / 1e4
    f, e = np.asarray(obs["flux"], float), np.asarray(obs["flux_err"], float)
    m = np.asarray(obs.get("mask", np.ones_like(f, bool)), bool)
    xlo, xhi = wr.min() / 1.25, wr.max() * 1.25
    with figure_style():
        fig, (ax, axr) = plt.subplots(2, 1, figsize=(8.5, 6.6), sharex=True,
                                      gridspec_kw={"height_ratios": [3.2, 1], "hspace": 0.06})
        ys = [f[m] * MAGGIE_TO_UJY]
        nb = max(len(backends), 1)
        dx = np.linspace(-0.012, 0.012, nb) if nb > 1 else np.zeros(1)
        for i, b in enumerate(backends):
            r = ppc[b]
            c = backend_color(b, i)
            w = np.asarray(r["wave_obs_aa"], float) / 1e4
            sel = (w >= xlo) & (w <= xhi)
            ax.fill_between(w[sel], r["spec_p16"][sel] * MAGGIE_TO_UJY, r["spec_p84"][sel] * MAGGIE_TO_UJY,
                            color=c, alpha=0.18, lw=0)
            ax.plot(w[sel], r["spec_p50"][sel] * MAGGIE_TO_UJY, color=c, lw=0.8, alpha=0.9,
                    label=f"{backend_label(b)} ({_n_draws(r['n_draws'])})")
            ys.append(r["spec_p50"][sel] * MAGGIE_TO_UJY)
            p50 = np.asarray(r["phot_p50"], float)
            yerr = np.vstack([p50 - r["phot_p16"], r["phot_p84"] - p50]) * MAGGIE_TO_UJY
            xw = wp * 10 ** dx[i]
            ax.errorbar(xw, p50 * MAGGIE_TO_UJY, yerr=np.clip(yerr, 0, None), fmt=backend_marker(b), color=c,
                        mfc="white", ms=5, lw=1, capsize=0, zorder=4)
            resid = (f - p50) / e
            axr.plot(xw[m], resid[m], backend_marker(b), color=c, mfc="white", ms=5)
        if truth is not None:
            w = np.asarray(truth["wave_obs_aa"], float) / 1e4
            sel = (w >= xlo) & (w <= xhi)
            ax.plot(w[sel], truth["fnu"][sel] * MAGGIE_TO_UJY, color="0.15", lw=0.8, ls="--",
                    label="truth (noise-free model)")
        ax.errorbar(wp[m], f[m] * MAGGIE_TO_UJY, yerr=e[m] * MAGGIE_TO_UJY, fmt="o", color=TRUTH_COLOR,
                    ms=7, capsize=3, lw=1.5, zorder=6, label="observed photometry (±1σ)")
        if (~m).any():
            ax.plot(wp[~m], np.full((~m).sum(), np.nanmedian(f[m]) * MAGGIE_TO_UJY), "x", color="0.5",
                    label="masked band")
        for (lo, hi), name, x in zip(wr, obs["bands"], wp):
            ax.axvspan(lo, hi, color="0.5", alpha=0.04, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        yall = np.concatenate([np.ravel(y) for y in ys])
        yall = yall[np.isfinite(yall) & (yall > 0)]
        if yall.size:
            ylo = max(np.percentile(yall, 1), f[m].min() * MAGGIE_TO_UJY / 20)
            ax.set_ylim(ylo / 1.5, yall.max() * 2.5)
        ax.set_xlim(xlo, xhi)
        ax.set_ylabel(r"$f_\nu$ [µJy]")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.4", marker="o", mfc="white", ls="", label="posterior-predictive band flux"))
        ax.legend(handles=handles, loc="lower right", fontsize=8, ncol=2)
        ax.set_title(title or f"Galaxy {obs.get('id', '?')} (z = {obs.get('redshift', float('nan')):.3f}): "
                     "posterior spectra (16–84%) and photometry")
        axr.axhline(0, color="0.3", lw=0.8)
        axr.axhspan(-1, 1, color="0.5", alpha=0.12, lw=0)
        axr.set_ylabel(r"$(f - \hat f_{50})/\sigma$")
        axr.set_xlabel(r"observed wavelength [µm]")
        for name, x in zip(obs["bands"], wp):
            axr.annotate(name.replace("sdss_", ""), (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                         textcoords="offset points", ha="center", va="bottom", fontsize=8, color="0.3")
        lim = np.nanmax(np.abs(axr.get_ylim()))
        axr.set_ylim(-max(lim, 2.5), max(lim, 2.5))
        from matplotlib.ticker import FuncFormatter, LogLocator

        axr.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        axr.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axr.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        return save_figure(fig, path, pdf=pdf)
