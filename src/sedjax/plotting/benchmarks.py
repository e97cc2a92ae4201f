"""Benchmark figures: jit speed-up, vmap throughput, sampler compile vs warm times.

Inputs are the benchmark JSON files as loaded dicts, keyed by device (``"cpu"``,
``"gpu"``); a file with ``"skipped": true`` gets a panel note instead of bars.
"""

from __future__ import annotations

import numpy as np
import matplotlib.pyplot as plt

from sedjax.plotting.style import (
    DEVICE_COLORS,
    backend_color,
    backend_label,
    figure_style,
    fmt_seconds,
    note,
    order_backends,
    save_figure,
)


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def _present(results: dict) -> list[str]:
    """Devices in a stable order (cpu first)."""
    return sorted(results, key=lambda d: (d != "cpu", d))


def _skipped_text(res) -> str | None:
    if res is None:
        return "no result"
    if res.get("skipped"):
        return "skipped: " + str(res.get("reason", ""))
    return None


def _device_title(device: str, res: dict) -> str:
    prov = res.get("provenance") or {}
    kind = prov.get("cpu_model") if prov.get("platform", device) == "cpu" else prov.get("device_kind")
    threads = prov.get("allocated_cpus") if prov.get("platform", device) == "cpu" else None
    bits = [str(kind) if kind else "", f"{threads} cores" if threads else "", prov.get("float_precision") or ""]
    extra = ", ".join(b for b in bits if b)
    return f"{device.upper()}" + (f": {extra}" if extra else "")


def _plain_log_ticks(axis):
    """Tick labels 200, 300, ... instead of 2×10² on a log axis spanning under a decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    lo, hi = axis.axes.get_ylim() if axis is axis.axes.yaxis else axis.axes.get_xlim()
    if hi / lo < 30:
        axis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


# ------------------------------------------------------------------- jit speed-up
JIT_BARS = (
    ("numpy", "NumPy reference (exact physics)", "#999999"),
    ("op_by_op", "JAX op-by-op (no jit)", "#E69F00"),
    ("jit", "JAX jit", "#0072B2"),
)


def plot_jit_speedup(jit: dict, path, peer: dict | None = None, pdf: bool = True) -> list[str]:
    """Time of one photometry evaluation: NumPy reference vs JAX op-by-op vs JAX jit.

    Parameters
    ----------
    jit : {device: contents of results/benchmarks/{device}/jit.json}
    path : PNG path (a PDF is written beside it with ``pdf=True``)
    peer : {device: peer.json}, optional; adds bagpipes ``model_galaxy.update()`` as a
        reference bar
    """
    peer = peer or {}
    skipped = [f"{d.upper()} {_skipped_text(jit[d])}" for d in _present(jit) if _skipped_text(jit[d])]
    devices = [d for d in _present(jit) if not _skipped_text(jit[d])]
    with figure_style():
        fig, axes = plt.subplots(1, max(len(devices), 1), figsize=(7.0 * max(len(devices), 1), 4.8), squeeze=False)
        handles = {}
        if not devices:
            note(axes[0, 0], "no jit benchmark result" + ("\n" + "\n".join(skipped) if skipped else ""))
        for ax, dev in zip(axes[0], devices):
            res = jit.get(dev)
            modes = [m for m in ("exact", "fast") if m in res.get("modes", {})]
            width = 0.26
            xt, xl = [], []
            for gi, mode in enumerate(modes):
                r = res["modes"][mode]
                t_jit = _get(r, "jit", "median_s")
                for bi, (key, lab, color) in enumerate(JIT_BARS):
                    st = r.get(key)
                    if not isinstance(st, dict) or st.get("median_s") is None:
                        continue
                    x = gi + (bi - 1) * width
                    t = st["median_s"]
                    h = ax.bar(x, t * 1e3, width, color=color, yerr=0.5 * (st.get("iqr_s") or 0) * 1e3,
                               capsize=2, error_kw={"lw": 0.8}, label=lab)
                    handles[lab] = h
                    txt = fmt_seconds(t)
                    if key != "jit" and t_jit:
                        txt += f"\n{t / t_jit:.3g}×"
                    top = t + 0.5 * (st.get("iqr_s") or 0)
                    ax.annotate(txt, (x, top * 1e3), xytext=(0, 3), textcoords="offset points",
                                ha="center", va="bottom", fontsize=7)
                xt.append(gi)
                xl.append(f"{mode} photometry")
            pres = peer.get(dev)
            t_bp = _get(pres, "bagpipes_update", "median_s") if pres and not pres.get("skipped") else None
            if t_bp is not None:
                x = len(modes)
                st = pres["bagpipes_update"]
                lab = "bagpipes model_galaxy.update() (reference)"
                h = ax.bar(x, t_bp * 1e3, width, color="#CC79A7", hatch="//", edgecolor="white",
                           yerr=0.5 * (st.get("iqr_s") or 0) * 1e3, capsize=2, error_kw={"lw": 0.8}, label=lab)
                handles[lab] = h
                txt = fmt_seconds(t_bp)
                # the ratio measured in the peer run itself (bagpipes and ours timed together)
                ratio = _get(pres, "ratios", "bagpipes_over_fast")
                if ratio:
                    txt += f"\n{ratio:.3g}× ours fast\n(same run)"
                top = t_bp + 0.5 * (st.get("iqr_s") or 0)
                ax.annotate(txt, (x, top * 1e3), xytext=(0, 3), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7)
                xt.append(x)
                xl.append("bagpipes")
            ax.set_yscale("log")
            ax.set_xticks(xt, xl)
            ax.set_ylabel("time per model evaluation [ms]")
            ax.set_title(_device_title(dev, res) + "\nlabels: median time and its ratio to JAX jit (same mode)",
                         fontsize=10)
            ax.grid(axis="x", visible=False)
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi * 8)  # room for the annotations
        if skipped:
            fig.text(0.01, 0.005, "Not shown: " + "; ".join(skipped), fontsize=8, color="0.35", ha="left", va="bottom")
        if handles:
            fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=2,
                       bbox_to_anchor=(0.5, 0.03 if skipped else 0.0), frameon=False)
            fig.tight_layout(rect=(0, 0.15 if skipped else 0.12, 1, 1))
        else:
            fig.tight_layout()
        return save_figure(fig, path, pdf=pdf)


# --------------------------------------------------------------- vmap throughput
def plot_vmap_throughput(vmap: dict, path, pdf: bool = True) -> list[str]:
    """Per-galaxy time vs batch size: ``jit(vmap(...))`` vs a Python loop of jitted calls.

    Parameters
    ----------
    vmap : {device: contents of results/benchmarks/{device}/vmap.json}; skipped devices
        are listed in the title, not drawn
    """
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        skipped = []
        drawn = 0
        for dev in _present(vmap):
            res = vmap[dev]
            why = _skipped_text(res)
            if why:
                skipped.append(f"{dev.upper()} {why}")
                continue
            rows = res.get("rows") or []
            color = DEVICE_COLORS.get(dev, "C2")
            b = np.array([r["batch"] for r in rows], float)
            tv = np.array([r.get("vmap_per_galaxy_s") or np.nan for r in rows], float)
            ax.plot(b, tv * 1e6, "-o", color=color, label=f"{dev.upper()}: jit(vmap(f)), one call per batch")
            lp = [(r["batch"], r["loop_per_galaxy_s"]) for r in rows if r.get("loop_per_galaxy_s") is not None]
            if lp:
                bl, tl = np.array(lp, float).T
                ax.plot(bl, tl * 1e6, "--s", color=color, mfc="white",
                        label=f"{dev.upper()}: Python loop of jit(f) calls")
            drawn += 1
        if not drawn:
            note(ax, "no vmap benchmark results" + ("\n" + "\n".join(skipped) if skipped else ""))
        else:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("batch size [galaxies]")
            ax.set_ylabel("time per galaxy [µs]")
            _plain_log_ticks(ax.yaxis)
            ax.legend(loc="best")
            title = "Batched photometry (fast mode): per-galaxy cost"
            if skipped:
                title += "\n(" + "; ".join(skipped) + ")"
            ax.set_title(title)
        fig.tight_layout()
        return save_figure(fig, path, pdf=pdf)


# ------------------------------------------------------------- sampler compile
def plot_sampler_compile(sampler: dict, path, pdf: bool = True) -> list[str]:
    """Cold (trace + compile + first run) vs warm (same shapes) calls of every backend.

    Left: the NUTS cold call split into trace/lower, XLA compile and run, next to a
    warm call, with ms per iteration. Right: time-to-posterior per galaxy, cold vs warm,
    per backend (log scale).

    Parameters
    ----------
    sampler : {device: contents of results/benchmarks/{device}/sampler.json}
    """
    devices = [d for d in _present(sampler) if not _skipped_text(sampler[d])]
    skipped = [f"{d.upper()} {_skipped_text(sampler[d])}" for d in _present(sampler) if _skipped_text(sampler[d])]
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1, 1.8]})
        ax0, ax1 = axes
        if not devices:
            note(ax0, "no sampler benchmark" + ("\n" + "\n".join(skipped) if skipped else ""))
            note(ax1, "")
            fig.tight_layout()
            return save_figure(fig, path, pdf=pdf)
        # left: NUTS breakdown per device
        parts = (("lower_s", "trace + lower", "#BBBBBB"), ("compile_s", "XLA compile", "#E69F00"),
                 ("first_run_s", "run", "#009E73"))
        xt, xl = [], []
        nuts_any = False
        for di, dev in enumerate(devices):
            n = _get(sampler[dev], "backends", "nuts")
            if not n or n.get("error"):
                continue
            nuts_any = True
            x = 2.5 * di
            bottom = 0.0
            for key, lab, color in parts:
                v = n.get(key) or 0.0
                ax0.bar(x, v, 0.8, bottom=bottom, color=color, label=lab if di == 0 else None)
                bottom += v
            ax0.annotate(f"{fmt_seconds(bottom)}", (x, bottom), xytext=(0, 3), textcoords="offset points",
                         ha="center", va="bottom", fontsize=8)
            w = _get(n, "warm", "median_s")
            if w is not None:
                ax0.bar(x + 1, w, 0.8, color="#0072B2", label="warm call (run only)" if di == 0 else None)
                txt = fmt_seconds(w)
                if n.get("ms_per_iteration") is not None:
                    txt += f"\n{n['ms_per_iteration']:.3g} ms/iter"
                ax0.annotate(txt, (x + 1, w), xytext=(0, 3), textcoords="offset points",
                             ha="center", va="bottom", fontsize=8)
            xt += [x, x + 1]
            xl += [f"cold\n({dev.upper()})", f"warm\n({dev.upper()})"]
        if nuts_any:
            o = _get(sampler[devices[0]], "backends", "nuts", "options") or {}
            ax0.set_xticks(xt, xl)
            ax0.set_ylabel("wall time [s]")
            ax0.set_title(f"NUTS: {o.get('n_chains', '?')} chains, {o.get('n_warmup', '?')} warm-up + "
                          f"{o.get('n_samples', '?')} draws")
            ax0.legend(loc="upper left", ncol=2, fontsize=8)
            ax0.grid(axis="x", visible=False)
            lo, hi = ax0.get_ylim()
            ax0.set_ylim(0, hi * 1.45)
        else:
            note(ax0, "NUTS not benchmarked")
        # right: cold vs warm per backend
        width = 0.8 / (2 * len(devices))
        names = order_backends(set().union(*[(_get(sampler[d], "backends") or {}).keys() for d in devices]))
        errors = []
        hatches = ["", "//", "\\\\", ".."]
        for di, dev in enumerate(devices):
            bk = _get(sampler[dev], "backends") or {}
            hatch = hatches[di % len(hatches)]
            for bi, name in enumerate(names):
                r = bk.get(name)
                if not r or r.get("error"):
                    if r and r.get("error"):
                        errors.append(f"{name} ({dev}): {r['error'].get('type')}")
                    continue
                color = backend_color(name, bi)
                x0 = bi - 0.4 + width * (2 * di)
                cold, warm = r.get("cold_s"), _get(r, "warm", "median_s")
                if cold is not None:
                    ax1.bar(x0 + width / 2, cold, width, color=color, alpha=0.45, edgecolor=color, hatch=hatch,
                            label="cold: trace + compile + run" if bi == 0 and di == 0 else None)
                if warm is not None:
                    ax1.bar(x0 + 1.5 * width, warm, width, color=color, hatch=hatch, edgecolor="white",
                            label="warm: run (same shapes)" if bi == 0 and di == 0 else None)
                    if cold:
                        ax1.annotate(f"{cold / warm:.0f}×" if cold / warm >= 10 else f"{cold / warm:.2g}×",
                                     (x0 + width, cold), xytext=(0, 3), textcoords="offset points",
                                     ha="center", va="bottom", fontsize=7)
        ax1.set_yscale("log")
        lab = []
        for n in names:
            st = {(_get(sampler[d], "backends", n) or {}).get("status") for d in devices} - {None, "ok"}
            lab.append(backend_label(n) + (f"\n[{'/'.join(sorted(st))}]" if st else ""))
        if len(devices) > 1:
            lab = [f"{b}\n({'/'.join(d.upper() for d in devices)})" for b in lab]
        ax1.set_xticks(range(len(names)), lab)
        ax1.set_ylabel("time to posterior, one galaxy [s]")
        title = "Time to posterior per backend (cold / warm; number: cold ÷ warm)"
        if skipped or errors:
            title += "\n(" + "; ".join(skipped + errors) + ")"
        ax1.set_title(title)
        ax1.grid(axis="x", visible=False)
        lo, hi = ax1.get_ylim()
        ax1.set_ylim(lo, hi * 4)
        leg = ax1.legend(loc="upper left")
        for h in leg.legend_handles:
            h.set_color("0.4")
        fig.tight_layout()
        return save_figure(fig, path, pdf=pdf)
