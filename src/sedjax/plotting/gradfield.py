"""The log-likelihood slice and its gradient field (from :func:`sedjax.analysis.gradfield.grad_field_grid`)."""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D

from sedjax.plotting.style import TRUTH_COLOR, figure_style, label, save_figure


def plot_grad_field(grid: dict, path, stride: int | None = None, pdf: bool = True) -> list[str]:
    """Filled contours of Δχ² = −2 (ln L − max ln L) on the slice, ∇ ln L as arrows.

    Parameters
    ----------
    grid : :func:`sedjax.analysis.gradfield.grad_field_grid` / ``load_grad_field`` dict
    stride : draw every ``stride``-th arrow per axis (default: about 15 arrows per axis)

    Arrows show the direction of steepest ascent of ln L in the plotted (axis-normalised)
    coordinates, with a fixed length (|∇ ln L| spans decades; the filled contours show
    how steep the surface is); the truth (all other parameters held there) is the star, the grid
    maximum the cross.
    """
    x, y = np.asarray(grid["x"], float), np.asarray(grid["y"], float)
    ll = np.asarray(grid["loglik"], float)
    gx, gy = np.asarray(grid["dloglik_dx"], float), np.asarray(grid["dloglik_dy"], float)
    xn, yn = str(grid["x_name"]), str(grid["y_name"])
    stride = stride or max(1, int(round(len(x) / 15)))
    dchi2 = -2.0 * (ll - np.nanmax(ll))
    floor = max(np.nanmin(dchi2[dchi2 > 0]) if (dchi2 > 0).any() else 1e-3, 1e-3)
    dchi2 = np.clip(dchi2, floor, None)
    with figure_style():
        fig, ax = plt.subplots(figsize=(7.2, 6.0))
        top = max(np.nanmax(dchi2), floor * 10)
        levels = np.logspace(np.log10(floor), np.log10(top), 16)
        cf = ax.contourf(x, y, dchi2, levels=levels, norm=LogNorm(vmin=floor, vmax=top), cmap="viridis_r")
        cs = ax.contour(x, y, dchi2, levels=[2.30, 6.18], colors="white", linewidths=1.2)
        ax.clabel(cs, fmt={2.30: "68%", 6.18: "95%"}, fontsize=8)
        cb = fig.colorbar(cf, ax=ax, pad=0.02, shrink=0.9)
        from matplotlib.ticker import LogLocator, FuncFormatter

        cb.locator = LogLocator()
        cb.formatter = FuncFormatter(lambda v, _: f"{v:g}")
        cb.update_ticks()
        cb.set_label(r"$\Delta\chi^2 = -2\,(\ln L - \ln L_\mathrm{max})$")
        # gradient w.r.t. axis-fraction coordinates, so that arrows are perpendicular to
        # the contours on a square box
        rx, ry = np.ptp(x) or 1.0, np.ptp(y) or 1.0
        u, v = gx * rx, gy * ry
        norm = np.hypot(u, v)
        norm = np.where(norm > 0, norm, 1.0)
        sl = (slice(None, None, stride), slice(None, None, stride))
        xx, yy = np.meshgrid(x, y)
        ax.quiver(xx[sl], yy[sl], (u / norm)[sl], (v / norm)[sl], color="white", angles="uv", pivot="mid",
                  scale=30, width=0.0035, headwidth=3.5, alpha=0.9, edgecolor="black", linewidth=0.3)
        ax.set_box_aspect(1)
        ax.plot(grid["truth_x"], grid["truth_y"], "*", color=TRUTH_COLOR, ms=16, mec="white", mew=1.2, zorder=5)
        ax.plot(grid["max_x"], grid["max_y"], "X", color="white", ms=9, mec="black", mew=0.8, zorder=5)
        ax.set_xlim(x.min(), x.max())
        ax.set_ylim(y.min(), y.max())
        ax.set_xlabel(label(xn))
        ax.set_ylabel(label(yn))
        ax.grid(False)
        handles = [Line2D([], [], marker="*", color=TRUTH_COLOR, mec="white", ls="", ms=13, label="truth"),
                   Line2D([], [], marker="X", color="white", mec="black", ls="", ms=9, label="grid maximum"),
                   Line2D([], [], color="white", lw=1.2, label=r"$\Delta\chi^2$ = 2.30, 6.18")]
        leg = ax.legend(handles=handles, loc="upper right", frameon=True, framealpha=0.85, facecolor="0.35",
                        edgecolor="none", labelcolor="white")
        leg.set_zorder(6)
        mode = grid.get("mode", "")
        ax.set_title(f"Log-likelihood slice ({len(x)}×{len(y)} grid, {mode} photometry) and ∇ ln L\n"
                     "other parameters at the truth; arrows: direction of steepest ascent")
        return save_figure(fig, path, pdf=pdf)
