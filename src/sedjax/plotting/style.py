"""One look for every figure: labels with units, backend colours, saving.

Every ``plot_*`` function of :mod:`sedjax.plotting` draws inside :func:`figure_style`
and saves with :func:`save_figure` (PNG, plus a PDF beside it when asked).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # workflow jobs write files only; an explicit MPLBACKEND wins

import matplotlib.pyplot as plt  # noqa: E402

from sedjax.io.atomic import atomic_output  # noqa: E402
from sedjax.model.names import DERIVED_NAMES  # noqa: E402
import numpy as np  # noqa: E402

# name -> (symbol, unit); unit "" for dimensionless quantities
QUANTITIES: dict[str, tuple[str, str]] = {
    "sfh_dpl_log_peak_sfr": (r"$\log_{10}\,\mathrm{SFR_{peak}}$", r"$M_\odot\,\mathrm{yr^{-1}}$"),
    "sfh_log_mass_formed": (r"$\log_{10}\,M_\mathrm{formed}$", r"$M_\odot$"),
    "sfh_dpl_tau_gyr": (r"$\tau_\mathrm{peak}$", "Gyr"),
    "sfh_dpl_alpha": (r"$\alpha_\mathrm{DPL}$", ""),
    "sfh_dpl_beta": (r"$\beta_\mathrm{DPL}$", ""),
    "sfh_delayed_tau_gyr": (r"$\tau$", "Gyr"),
    "sfh_delayed_tstart_gyr": (r"$t_\mathrm{start}$", "Gyr"),
    "sfh_const_duration_gyr": (r"$\Delta t_\mathrm{SF}$", "Gyr"),
    "met_logzsol": (r"$\log_{10}\,Z/Z_\odot$", ""),
    "dust_tau_bc": (r"$\tau_{V,\mathrm{BC}}$", ""),
    "dust_tau_diff": (r"$\tau_{V,\mathrm{ISM}}$", ""),
    "dust_slope": (r"$n_\mathrm{dust}$", ""),
    "redshift": (r"$z$", ""),
    "log_mass_formed": (r"$\log_{10}\,M_\mathrm{formed}$", r"$M_\odot$"),
    "log_mass_surviving": (r"$\log_{10}\,M_\star$", r"$M_\odot$"),
    "sfr_10myr": (r"$\mathrm{SFR_{10\,Myr}}$", r"$M_\odot\,\mathrm{yr^{-1}}$"),
    "sfr_100myr": (r"$\mathrm{SFR_{100\,Myr}}$", r"$M_\odot\,\mathrm{yr^{-1}}$"),
    "mass_weighted_age_gyr": (r"$\langle t \rangle_M$", "Gyr"),
}

# quantities spanning decades: drawn on log axes
LOG_QUANTITIES = frozenset({"sfr_10myr", "sfr_100myr"})

BACKEND_ORDER = ("map", "laplace", "pathfinder", "nuts", "vi", "ns", "is", "auto")
BACKEND_LABELS = {
    "map": "MAP",
    "laplace": "Laplace",
    "pathfinder": "Pathfinder",
    "nuts": "NUTS",
    "vi": "VI",
    "ns": "Nested sampling",
    "is": "IS (t proposal)",
    "auto": "Auto (IS → HMC)",
}
# colour-blind-safe (Okabe–Ito) colours, one per backend, the same in every figure
BACKEND_COLORS = {
    "map": "#000000",
    "laplace": "#E69F00",
    "pathfinder": "#56B4E9",
    "nuts": "#009E73",
    "vi": "#CC79A7",
    "ns": "#0072B2",
    "is": "#999999",  # grey and wine (Tol's muted scheme): Okabe–Ito has no further safe colour
    "auto": "#882255",
}
BACKEND_MARKERS = {"map": "X", "laplace": "s", "pathfinder": "^", "nuts": "o", "vi": "D", "ns": "v", "is": "P", "auto": "*"}
# bagpipes (+ nautilus), the peer code in the benchmark figures: not a backend colour
BAGPIPES_COLOR = "#661100"
DEVICE_COLORS = {"cpu": "#0072B2", "gpu": "#D55E00"}
TRUTH_COLOR = "#D55E00"

RC = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
    "figure.dpi": 100,
    "mathtext.default": "regular",
    "legend.frameon": False,
}


def figure_style():
    """Context manager with the shared rcParams."""
    return matplotlib.rc_context(RC)


def _lookup(name: str) -> tuple[str, str]:
    if name in QUANTITIES:
        return QUANTITIES[name]
    if name.startswith("lum_") and name.endswith("_lsun"):  # nebular line luminosities
        line = name[4:-5].replace("_", " ")
        return (rf"$L(\mathrm{{{line}}})$", r"$L_\odot$")
    return (name.replace("_", " "), "")


def symbol(name: str) -> str:
    """Short symbol of a quantity (its name when unknown)."""
    return _lookup(name)[0]


def label(name: str) -> str:
    """Axis label "symbol [unit]" (no brackets for dimensionless quantities)."""
    sym, unit = _lookup(name)
    return f"{sym} [{unit}]" if unit else sym


def is_log_quantity(name: str) -> bool:
    """Quantities spanning decades (drawn on log axes, scatter statistics in dex)."""
    return name in LOG_QUANTITIES or (name.startswith("lum_") and name.endswith("_lsun"))


def backend_label(name: str) -> str:
    return BACKEND_LABELS.get(name, name)


def backend_color(name: str, i: int = 0) -> str:
    return BACKEND_COLORS.get(name, f"C{i % 10}")


def backend_marker(name: str) -> str:
    return BACKEND_MARKERS.get(name, "o")


def order_backends(names) -> list[str]:
    """Backends in the canonical order (unknown ones last, in their given order)."""
    names = list(dict.fromkeys(names))
    known = [b for b in BACKEND_ORDER if b in names]
    return known + [b for b in names if b not in known]


def order_quantities(names) -> list[str]:
    """Canonical order: free parameters (SFH, metallicity, dust, redshift, as in
    :data:`QUANTITIES`), then derived quantities, then line luminosities; names unknown
    to :data:`QUANTITIES` keep their given order after the known ones of their group."""
    names = list(dict.fromkeys(names))
    rank = {n: i for i, n in enumerate(QUANTITIES)}
    lines = [n for n in names if n.startswith("lum_")]
    derived = [n for n in names if n in DERIVED_NAMES]
    free = [n for n in names if n not in lines and n not in derived]
    key = lambda n: rank.get(n, len(rank))  # noqa: E731 (stable: unknown names keep their order)
    return sorted(free, key=key) + [n for n in DERIVED_NAMES if n in derived] + lines


def fmt_seconds(t: float) -> str:
    """A time with a readable unit (µs, ms, s, min)."""
    if t is None or not np.isfinite(t):
        return "n/a"
    if t < 1e-3:
        return f"{t * 1e6:.3g} µs"
    if t < 1:
        return f"{t * 1e3:.3g} ms"
    if t < 120:
        return f"{t:.3g} s"
    return f"{t / 60:.3g} min"


def save_figure(fig, path, pdf: bool = False) -> list[str]:
    """Save ``fig`` to ``path`` (PNG) and, with ``pdf=True``, beside it as PDF; close it.

    Each file is written to a temporary name in the same directory and renamed, so a
    killed job never leaves a half-written figure. Returns the paths written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = [path] + ([path.with_suffix(".pdf")] if pdf else [])
    written = []
    try:
        for target in targets:
            with atomic_output(target, target.suffix) as tmp:
                fig.savefig(tmp, format=target.suffix.lstrip(".") or "png", bbox_inches="tight")
            written.append(str(target))
    finally:
        plt.close(fig)
    return written


def note(ax, text: str, loc: str = "center") -> None:
    """A centred message in an otherwise empty axes (missing or skipped data)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.35", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
