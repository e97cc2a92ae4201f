"""Figures of the posterior benchmark (rule ``bench_posterior``): time to a posterior, posteriors overlaid.

Inputs: the record ``results/benchmarks/cpu/posterior.json`` (loaded dict) and the draws of
``results/benchmarks/cpu/posterior_samples.h5`` (:func:`sedjax.io.sample_sets.read_sample_sets`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter

from sedjax.plotting.style import (
    BAGPIPES_COLOR,
    TRUTH_COLOR,
    backend_color,
    backend_label,
    figure_style,
    fmt_seconds,
    is_log_quantity,
    label,
    note,
    save_figure,
)

BAGPIPES_LABEL = "bagpipes + nautilus"
# quantities overlaid when both posteriors have them (bagpipes' stellar_mass, formed_mass, sfr (100 Myr))
OVERLAY_QUANTITIES = ("sfh_log_mass_formed", "log_mass_surviving", "met_logzsol", "dust_tau_diff", "sfr_100myr",
                      "mass_weighted_age_gyr")


def _f(v, fmt="{:.3g}"):
    return "n/a" if v is None or not np.isfinite(v) else fmt.format(v)


def _backend_rows(record: dict) -> tuple[list[str], list[str]]:
    """``(backends with timings, error notes)`` in the record's order."""
    names, errors = [], []
    for name, r in (record.get("backends") or {}).items():
        if r.get("error"):
            errors.append(f"{backend_label(name)}: {r['error'].get('type')}")
        else:
            names.append(name)
    return names, errors


def plot_posterior_time(record: dict, path, pdf: bool = True) -> list[str]:
    """Time to a posterior on one galaxy: cold and warm bars per backend, bagpipes + nautilus.

    Horizontal bars on a log axis: per backend its cold call (trace + compile + first run,
    light) and warm call (the compiled program again, solid), annotated with bagpipes' time
    over ours, the model evaluations and ESS per second; bagpipes + nautilus' ``fit()`` on top
    with its likelihood calls and effective sample size. The dashed line marks issue 15's goal
    (a warm posterior ``goal`` times faster than bagpipes).
    """
    names, errors = _backend_rows(record)
    bp = record.get("bagpipes") or {}
    t_bp = None if bp.get("error") else bp.get("fit_s")
    with figure_style():
        fig, ax = plt.subplots(figsize=(10.5, 1.2 + 0.75 * (len(names) + 1)))
        if not names and t_bp is None:
            note(ax, "no posterior benchmark result" + ("\n" + "; ".join(errors) if errors else ""))
            return save_figure(fig, path, pdf=pdf)
        y = 0
        ticks, ticklabels = [], []
        if t_bp is not None:
            ax.barh(y, t_bp, 0.5, color=BAGPIPES_COLOR, hatch="//", edgecolor="white", label=BAGPIPES_LABEL + " fit()")
            ax.annotate(f"{fmt_seconds(t_bp)}; {bp.get('n_likelihood_calls')} likelihood calls, n_eff "
                        f"{_f(bp.get('n_eff'), '{:.0f}')} ({_f(bp.get('ess_per_s'))} /s), n_live {bp.get('n_live')}",
                        (t_bp, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5)
            ticks.append(y)
            ticklabels.append(BAGPIPES_LABEL)
            y += 1
        for i, name in enumerate(names):
            r = record["backends"][name]
            color = backend_color(name, i)
            warm, cold = r["warm"]["median_s"], r["cold_s"]
            ratios = r.get("ratios") or {}
            ax.barh(y + 0.2, cold, 0.38, color=color, alpha=0.4, edgecolor=color)
            ax.barh(y - 0.2, warm, 0.38, color=color)
            ax.annotate(f"cold {fmt_seconds(cold)} (compile {fmt_seconds(r.get('compile_s'))}); bagpipes ÷ cold "
                        f"{_f(ratios.get('bagpipes_over_cold'))}×", (cold, y + 0.2), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=7.5)
            n_eval = r.get("model_evaluations")
            ax.annotate(f"warm {fmt_seconds(warm)}; bagpipes ÷ warm {_f(ratios.get('bagpipes_over_warm'))}×; "
                        f"{n_eval if n_eval is not None else '?'} evaluations; ESS/s {_f(r.get('ess_per_s'))}",
                        (warm, y - 0.2), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5,
                        fontweight="bold" if name == record.get("reference") else "normal")
            status = r.get("status")
            ticks.append(y)
            ticklabels.append(backend_label(name) + ("" if status == "ok" else f"\n[{status}]"))
            y += 1
        goal = (record.get("headline") or {}).get("goal_bagpipes_over_warm")
        if t_bp is not None and goal:
            ax.axvline(t_bp / goal, color="0.3", ls="--", lw=0.9,
                       label=f"goal: {goal:g}× faster than bagpipes (warm)")
        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * 100)  # room for the annotations
        ax.set_yticks(ticks, ticklabels)
        ax.invert_yaxis()
        ax.set_xlabel("wall time to a posterior, one galaxy [s]")
        ax.grid(axis="y", visible=False)
        prov = record.get("provenance") or {}
        title = (f"Time to a posterior: galaxy at S/N {1 / record['frac_err']:.0f}, {record.get('n_free')} free "
                 f"parameters, same priors; {prov.get('cpu_model', 'CPU')}, one XLA worker"
                 if record.get("frac_err") else "Time to a posterior")
        if errors:
            title += "\n(raised: " + "; ".join(errors) + ")"
        if bp.get("error"):
            title += f"\n(bagpipes: {bp['error'].get('type')}: {str(bp['error'].get('message'))[:80]})"
        ax.set_title(title, fontsize=9)
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(color="0.5", alpha=0.4), Patch(color="0.5")]
        labels += ["cold: trace + lower + XLA compile + first run", "warm: the compiled program again, fresh key"]
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
        fig.tight_layout(rect=(0, 0.1 + 0.1 / (len(names) + 1), 1, 1))
        return save_figure(fig, path, pdf=pdf)


def _draws(sets: dict, name: str) -> dict:
    s = sets.get(name) or {}
    return {**(s.get("samples") or {}), **(s.get("derived") or {})}


def _quantiles(a: np.ndarray, log: bool) -> str:
    a = a[np.isfinite(a)]
    if not a.size:
        return "no draws"
    fmt = "{:.3g}" if log else "{:.2f}"
    p16, p50, p84 = (fmt.format(v) for v in np.percentile(a, [16, 50, 84]))
    return f"{p50} [{p16}, {p84}]"


def _bins(a: np.ndarray, b: np.ndarray, log: bool, n: int = 30) -> np.ndarray:
    both = np.concatenate([a, b])
    both = both[np.isfinite(both) & ((both > 0) if log else True)]
    lo, hi = np.percentile(both, [0.5, 99.5])
    if hi <= lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    return np.geomspace(lo, hi, n + 1) if log else np.linspace(lo, hi, n + 1)


def plot_posterior_overlay(sets: dict, path, reference: str = "nuts", truth: dict | None = None,
                           quantities=OVERLAY_QUANTITIES, pdf: bool = True) -> list[str]:
    """1-D marginals of the ``reference`` backend's posterior and bagpipes + nautilus' on the same galaxy.

    Parameters
    ----------
    sets : {set name: {"samples": {...}, "derived": {...}}} (``bagpipes`` and backend names)
    reference : the backend drawn against bagpipes
    truth : {quantity: value} marked as a vertical line
    quantities : drawn when both sets have them (absent ones are left out)
    """
    ours, bp = _draws(sets, reference), _draws(sets, "bagpipes")
    names = [q for q in quantities if q in ours and q in bp]
    truth = truth or {}
    ncol = 3
    nrow = max(1, -(-len(names) // ncol))
    with figure_style():
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.8 * nrow + 0.6), squeeze=False)
        flat = axes.ravel()
        if not names:
            missing = [s for s, d in ((reference, ours), ("bagpipes", bp)) if not d]
            note(flat[0], "nothing to overlay" + (f": no draws of {', '.join(missing)}" if missing else
                                                  ": no quantity in both posteriors"))
        color = backend_color(reference)
        for ax, q in zip(flat, names):
            a, b = np.asarray(ours[q], float), np.asarray(bp[q], float)
            log = is_log_quantity(q)
            bins = _bins(a, b, log)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            # fraction of draws per bin (bins equal in x, or in log x): comparable shapes on either axis
            ax.hist(a, bins=bins, weights=np.full(a.size, 1.0 / max(a.size, 1)), histtype="stepfilled", alpha=0.35,
                    color=color, label=f"{backend_label(reference)} (sedjax, {a.size} draws)")
            ax.hist(b, bins=bins, weights=np.full(b.size, 1.0 / max(b.size, 1)), histtype="step", lw=1.6,
                    color=BAGPIPES_COLOR, label=f"{BAGPIPES_LABEL} ({b.size} draws)")
            if truth.get(q) is not None and np.isfinite(truth[q]):
                ax.axvline(truth[q], color=TRUTH_COLOR, lw=1.2, ls="--", label="truth")
            if log:
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(label(q))
            ax.set_title("\n".join(f"{who}: {_quantiles(v, log)}" for who, v in
                                   ((backend_label(reference), a), ("bagpipes", b))), fontsize=7.5)
            ax.set_yticks([])
            ax.grid(False)
        for ax in flat[len(names):] if names else flat[1:]:
            ax.set_visible(False)
        if names:
            handles, labels = flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8.5)
            fig.suptitle("Posterior marginals, one galaxy, same photometry and priors (titles: median [16%, 84%])",
                         fontsize=10)
            fig.tight_layout(rect=(0, 0.07 if nrow > 1 else 0.12, 1, 1))
        return save_figure(fig, path, pdf=pdf)
