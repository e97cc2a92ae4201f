"""Figures, gradient field, posterior-predictive spectra and summary tables.

Every plotting function runs on small synthetic results written to ``tmp_path`` in the
workflow's real formats (benchmark JSON, FitResult HDF5, batch Parquet, calibration
Parquet, grad-field .npz) and read back as the scripts do.
"""

import json

import numpy as np
import pandas as pd
import pytest
from testlib import assert_png

from sedjax.io.jsonio import write_json
from sedjax.analysis.gradfield import finite_difference_grad, grad_field_grid, load_grad_field, save_grad_field
from sedjax.inference import FitResult
from sedjax.plotting import (
    backend_metrics,
    plot_backend_comparison,
    plot_calibration,
    plot_corner,
    plot_corner_all,
    plot_grad_field,
    plot_jit_speedup,
    plot_recovery,
    plot_sampler_compile,
    plot_sed,
    plot_vmap_throughput,
    recovery_stats,
)
from sedjax.plotting.io import load_batch, load_by_device
from sedjax.plotting.report import build_sections, render_html, render_markdown

FREE = {
    "sfh_dpl_log_peak_sfr": (-1.0, 2.5),
    "sfh_dpl_tau_gyr": (0.1, 10.0),
    "sfh_dpl_alpha": (1.0, 10.0),
    "sfh_dpl_beta": (1.0, 10.0),
    "met_logzsol": (-2.0, 0.2),
    "dust_tau_bc": (0.0, 2.0),
    "dust_tau_diff": (0.0, 1.5),
}
DERIVED = {
    "log_mass_formed": (8.0, 11.0),
    "log_mass_surviving": (7.8, 10.8),
    "sfr_10myr": (1e-3, 30.0),
    "sfr_100myr": (1e-3, 30.0),
    "mass_weighted_age_gyr": (0.5, 12.0),
}


def _stats(t, rng):
    x = t * np.exp(rng.normal(0, 0.1, 20))
    q = np.percentile(x, [25, 50, 75])
    return {"median_s": float(q[1]), "iqr_s": float(q[2] - q[0]), "min_s": float(x.min()), "n": 20}


def _truths(rng):
    t = {k: float(rng.uniform(*r)) for k, r in FREE.items()}
    t.update({"dust_slope": -0.7, "redshift": 0.1})
    t.update({k: float(rng.uniform(*r)) for k, r in DERIVED.items()})
    return t


def _spec_meta():
    params = {k: {"uniform": list(v)} for k, v in FREE.items()}
    params.update({"dust_slope": {"fixed": -0.7}, "redshift": {"fixed": 0.1}})
    return {"sfh": "dpl", "params": params}


@pytest.fixture
def synthetic(tmp_path):
    """Synthetic workflow results in their real file formats; returns their paths."""
    rng = np.random.default_rng(1)
    out = {}
    bench = tmp_path / "benchmarks"
    prov = {"cpu_model": "Test CPU", "allocated_cpus": 2, "n_cpu": 2, "platform": "cpu", "device_kind": "cpu",
            "float_precision": "float64", "versions": {"jax": "0"}, "git_commit": "abc", "date_utc": "2026"}
    modes = {}
    for mode, tj in (("fast", 1.5e-4), ("exact", 2e-2)):
        modes[mode] = {"jit": _stats(tj, rng), "op_by_op": _stats(tj * 20, rng), "numpy": _stats(4.5e-3, rng),
                       "compile": {"lower_s": 0.1, "compile_s": 0.5, "first_call_s": 0.7}}
    write_json(bench / "cpu" / "jit.json", {"benchmark": "jit", "device": "cpu", "modes": modes, "provenance": prov})
    write_json(bench / "gpu" / "jit.json", {"benchmark": "jit", "device": "gpu", "skipped": True, "reason": "no GPU"})
    write_json(bench / "cpu" / "peer.json", {"benchmark": "peer", "device": "cpu",
                                             "bagpipes_update": _stats(1e-3, rng), "provenance": prov})
    rows = []
    for b in (1, 10, 100, 1000):
        r = {"batch": b, "vmap": _stats(2e-4 * b, rng), "vmap_per_galaxy_s": 2e-4 / (1 + np.log10(b))}
        if b <= 100:
            r.update(loop_per_galaxy_s=2.2e-4, loop_over_vmap=1.1)
        rows.append(r)
    write_json(bench / "cpu" / "vmap.json", {"benchmark": "vmap", "device": "cpu", "rows": rows, "provenance": prov})
    backends = {}
    for i, name in enumerate(("nuts", "map", "laplace", "pathfinder", "vi", "ns")):
        warm = 0.5 * (i + 1)
        r = {"lower_s": 2.0, "compile_s": 10.0 + i, "first_run_s": warm, "cold_s": 12.0 + i + warm,
             "warm": _stats(warm, rng), "cold_over_warm": (12.0 + i + warm) / warm, "status": "ok",
             "options": {"n_chains": 2, "n_warmup": 200, "n_samples": 200} if name == "nuts" else {}}
        if name == "nuts":
            r.update(iterations=400, ms_per_iteration=1e3 * warm / 400)
        backends[name] = r
    backends["ns"] = {"error": {"type": "RuntimeError", "message": "synthetic failure"}}
    write_json(bench / "cpu" / "sampler.json", {"benchmark": "sampler", "device": "cpu", "galaxy_id": 0,
                                                "warm_repeats": 2, "backends": backends, "provenance": prov})
    write_json(bench / "cpu" / "summary.json", {"device": "cpu", "skipped": {}, "errors": {}, "provenance": prov,
                                                "headline": {"jit_vs_numpy_fast": 28.9, "jit_vs_op_by_op_fast": 45.5,
                                                             "vmap_per_galaxy_us_at_largest": 480.0,
                                                             "vmap_largest_batch": 1000}})
    out["bench"] = bench

    # single-galaxy fits (physical samples, truths in meta)
    truth = _truths(rng)
    fits = {}
    for name, n in (("nuts", 600), ("vi", 400), ("map", 1)):
        samples = {}
        for k, (lo, hi) in FREE.items():
            c = truth[k] + rng.normal(0, 0.08 * (hi - lo), n) + (0.02 * (hi - lo) if name == "vi" else 0)
            samples[k] = np.clip(c, lo, hi)
        derived = {k: np.full(n, truth[k]) * np.exp(rng.normal(0, 0.05, n)) for k in DERIVED}
        res = FitResult(backend=name, samples=samples, derived=derived,
                        timings={"compile_s": 3.0, "run_s": 1.0}, status="ok",
                        meta={"galaxy_id": 0, "truth": truth, "redshift": 0.1, "spec": _spec_meta()})
        path = tmp_path / "fits" / "single" / name / "0.h5"
        res.save_hdf5(path)
        fits[name] = path
    out["fits"] = fits

    # batch tables, throughput, calibration
    n_gal = 30
    batch_dir = tmp_path / "fits" / "batch"
    batch_dir.mkdir(parents=True)
    cov_rows, rank_rows = [], []
    for name, width in (("nuts", 1.0), ("map", 0.0), ("vi", 0.6)):
        cols = {"id": np.arange(n_gal)}
        for k, (lo, hi) in {**FREE, **DERIVED}.items():
            log = k.startswith("sfr")
            t = np.exp(rng.uniform(np.log(lo), np.log(hi), n_gal)) if log else rng.uniform(lo, hi, n_gal)
            sig = (0.2 if log else 0.08 * (hi - lo)) * np.ones(n_gal)
            noise = rng.normal(0, 1, n_gal) * sig
            med = t * np.exp(noise) if log else t + noise
            half = width * sig
            cols[f"true_{k}"] = t
            cols[f"{k}_median"] = med
            cols[f"{k}_p16"] = med * np.exp(-half) if log else med - half
            cols[f"{k}_p84"] = med * np.exp(half) if log else med + half
            if k in FREE:
                inside = np.abs(noise) <= half
                # the columns of sedjax.analysis.calibration.calibration_tables
                cov_rows.append({"backend": name, "parameter": k, "n_galaxies": n_gal,
                                 "coverage_68": inside.mean(), "coverage_95": (np.abs(noise) <= 2 * half).mean(),
                                 "chi2_pvalue": 0.5, "ks_pvalue": 0.5, "point_estimate": width == 0})
                rank_rows += [{"backend": name, "parameter": k, "id": g, "rank": float(r)}
                              for g, r in enumerate(rng.beta(0.5 + width, 0.5 + width, n_gal))]
        cols["status"] = np.where(np.arange(n_gal) == 3, "failed", "ok")
        cols["run_s"] = np.full(n_gal, 0.01 * (1 + 10 * width))
        pd.DataFrame(cols).to_parquet(batch_dir / f"{name}.parquet")
        write_json(batch_dir / f"{name}_throughput.json",
                   {"backend": name, "gal_per_s": 100.0 / (1 + 10 * width), "compile_s": 5.0})
    cal = tmp_path / "calibration"
    cal.mkdir()
    pd.DataFrame(cov_rows).to_parquet(cal / "coverage.parquet")
    pd.DataFrame(rank_rows).to_parquet(cal / "ranks.parquet")
    out["batch"] = sorted(batch_dir.glob("*.parquet"))
    out["throughput"] = sorted(batch_dir.glob("*_throughput.json"))
    out["coverage"] = cal / "coverage.parquet"
    out["ranks"] = cal / "ranks.parquet"

    # grad-field grid: an analytic log-likelihood with a curved valley
    x = np.linspace(0, 1.5, 12)
    y = np.linspace(-2, 0.2, 12)
    xx, yy = np.meshgrid(x, y)
    ll = -0.5 * (((xx - 0.5) + 0.3 * (yy + 1) ** 2) / 0.05) ** 2 - 0.5 * ((yy + 1) / 0.5) ** 2
    gx = -((xx - 0.5) + 0.3 * (yy + 1) ** 2) / 0.05**2
    gy = gx * 0.6 * (yy + 1) - (yy + 1) / 0.25
    grid = {"x": x, "y": y, "loglik": ll, "dloglik_dx": gx, "dloglik_dy": gy, "truth_x": 0.5, "truth_y": -1.0,
            "max_x": 0.5, "max_y": -1.0, "obs": np.ones(5), "err": np.ones(5), "x_name": "dust_tau_diff",
            "y_name": "met_logzsol", "mode": "fast", "params_json": "{}"}
    out["grid"] = tmp_path / "gradfield" / "grid.npz"
    save_grad_field(grid, out["grid"], meta={"galaxy_id": 0})
    out["figs"] = tmp_path / "figures"
    return out


# ------------------------------------------------------------------ benchmarks
def test_plot_jit_speedup(synthetic):
    b = synthetic["bench"]
    jit = load_by_device([b / "cpu" / "jit.json", b / "gpu" / "jit.json"])
    written = plot_jit_speedup(jit, synthetic["figs"] / "jit_speedup.png", peer=load_by_device([b / "cpu" / "peer.json"]))
    assert_png(synthetic["figs"] / "jit_speedup.png")
    assert (synthetic["figs"] / "jit_speedup.pdf").stat().st_size > 1000
    assert len(written) == 2


def test_plot_vmap_throughput(synthetic):
    b = synthetic["bench"]
    plot_vmap_throughput(load_by_device([b / "cpu" / "vmap.json"]), synthetic["figs"] / "vmap.png", pdf=False)
    assert_png(synthetic["figs"] / "vmap.png")
    assert not (synthetic["figs"] / "vmap.pdf").exists()


def test_plot_sampler_compile(synthetic):
    b = synthetic["bench"]
    plot_sampler_compile(load_by_device([b / "cpu" / "sampler.json"]), synthetic["figs"] / "sampler.png", pdf=False)
    assert_png(synthetic["figs"] / "sampler.png")


def test_plots_tolerate_skipped_devices(tmp_path):
    skipped = {"gpu": {"skipped": True, "reason": "no GPU visible"}}
    for fn, name in ((plot_jit_speedup, "a.png"), (plot_vmap_throughput, "b.png"), (plot_sampler_compile, "c.png")):
        fn(skipped, tmp_path / name, pdf=False)
        assert (tmp_path / name).stat().st_size > 1000


def test_plot_grad_field(synthetic):
    grid = load_grad_field(synthetic["grid"])
    assert grid["x_name"] == "dust_tau_diff" and grid["meta"] == {"galaxy_id": 0}
    plot_grad_field(grid, synthetic["figs"] / "grad_field.png")
    assert_png(synthetic["figs"] / "grad_field.png")


# ------------------------------------------------------------------- posteriors
def test_plot_corner_samples_and_point_estimate(synthetic):
    for name in ("nuts", "map"):
        res = FitResult.load_hdf5(synthetic["fits"][name])
        plot_corner(res, synthetic["figs"] / f"corner_{name}_0.png")
        assert_png(synthetic["figs"] / f"corner_{name}_0.png")


def test_plot_corner_all(synthetic):
    results = {n: FitResult.load_hdf5(p) for n, p in synthetic["fits"].items()}
    plot_corner_all(results, synthetic["figs"] / "corner_all_0.png")
    assert_png(synthetic["figs"] / "corner_all_0.png")


def test_plot_sed_synthetic(synthetic):
    wave = np.geomspace(1000, 30000, 800)
    base = 1e-8 * (wave / 5000) ** 0.8
    obs = {"id": 0, "bands": ["sdss_u", "sdss_g", "sdss_r", "sdss_i", "sdss_z"], "redshift": 0.1,
           "wave_pivot_aa": np.array([3557.0, 4702, 6176, 7490, 8947]),
           "wave_range_aa": np.array([[2980, 4130], [3630, 5830], [5380, 7230], [6430, 8630], [7730, 11230]], float),
           "flux": 1e-8 * (np.array([3557.0, 4702, 6176, 7490, 8947]) / 5000) ** 0.8, "mask": np.ones(5, bool)}
    obs["flux_err"] = 0.1 * obs["flux"]
    obs["mask"][0] = False
    ppc = {}
    for i, name in enumerate(("nuts", "map")):
        s = base * (1 + 0.02 * i)
        ppc[name] = {"wave_obs_aa": wave, "spec_p16": 0.9 * s, "spec_p50": s, "spec_p84": 1.1 * s,
                     "phot_p16": 0.95 * obs["flux"], "phot_p50": obs["flux"], "phot_p84": 1.05 * obs["flux"],
                     "n_draws": 1 if name == "map" else 50}
    plot_sed(obs, ppc, synthetic["figs"] / "sed_0.png", truth={"wave_obs_aa": wave, "fnu": base})
    assert_png(synthetic["figs"] / "sed_0.png")


# ------------------------------------------------------------ catalogue level
def test_recovery_stats_and_plot(synthetic):
    batch, _ = load_batch(synthetic["batch"])
    st = recovery_stats(batch["nuts"]).set_index("quantity")
    assert list(st.index[:7]) == list(FREE) and "sfr_10myr" in st.index
    assert st.loc["sfr_10myr", "unit"] == "dex" and st.loc["met_logzsol", "unit"] == "native"
    assert (st["n"] == 29).all() and (st["n_failed"] == 1).all()  # one failed row left out
    assert 0.4 < st.loc["met_logzsol", "cov68"] < 0.95
    assert np.isnan(recovery_stats(batch["map"])["mean_abs_z"]).all()  # point estimates: no z
    for name in batch:
        plot_recovery(batch[name], synthetic["figs"] / f"recovery_{name}.png", backend=name)
        assert_png(synthetic["figs"] / f"recovery_{name}.png")


def test_plot_calibration(synthetic):
    cov = pd.read_parquet(synthetic["coverage"])
    ranks = pd.read_parquet(synthetic["ranks"])
    plot_calibration(cov, ranks, synthetic["figs"] / "calibration.png")
    assert_png(synthetic["figs"] / "calibration.png")


def test_plot_backend_comparison(synthetic):
    batch, tp = load_batch(synthetic["batch"], synthetic["throughput"])
    cov = pd.read_parquet(synthetic["coverage"])
    m = backend_metrics(batch, tp, cov, free_params=list(FREE)).set_index("backend")
    assert m.loc["nuts", "time_per_galaxy_s"] == pytest.approx(0.11)
    assert np.isnan(m.loc["map", "mean_abs_z"]) and m.loc["map", "cov68"] < 0.2
    plot_backend_comparison(batch, synthetic["figs"] / "backend_comparison.png", throughput=tp, coverage=cov,
                            free_params=list(FREE))
    assert_png(synthetic["figs"] / "backend_comparison.png")


def test_summary_tables(synthetic, tmp_path):
    figs = synthetic["figs"]
    plot_grad_field(load_grad_field(synthetic["grid"]), figs / "grad_field.png", pdf=False)
    plot_recovery(pd.read_parquet(synthetic["batch"][0]), figs / "recovery_map.png", backend="map", pdf=False)
    batch, tp = load_batch(synthetic["batch"], synthetic["throughput"])
    b = synthetic["bench"]
    out = tmp_path / "summary.md"
    sections = build_sections(out, figures=sorted(str(p) for p in figs.glob("*.png")),
                              bench_summaries=load_by_device([b / "cpu" / "summary.json"]),
                              sampler=load_by_device([b / "cpu" / "sampler.json"]),
                              batch=batch, throughput=tp, coverage=pd.read_parquet(synthetic["coverage"]))
    md = render_markdown(sections)
    page = render_html(sections)
    assert "(figures/grad_field.png)" in md and "(figures/recovery_map.png)" in md  # relative links
    assert 'src="figures/grad_field.png"' in page
    assert "NUTS" in md and "28.9×" in md and "synthetic failure" in md
    assert page.count("<table>") >= 4 and page.rstrip().endswith("</html>")


# ------------------------------------------------------ computation (real model)
def test_grad_field_grid_matches_finite_differences(default_model, tmp_path):
    import jax

    model = default_model
    truth = {k: float(v) for k, v in model.spec.sample(jax.random.PRNGKey(7)).items()}
    truth.update(dust_tau_diff=0.6, met_logzsol=-0.8)
    obs = np.asarray(model.predict_photometry(truth))
    err = 0.1 * obs
    grid = grad_field_grid(model, truth, 1.05 * obs, err, n=5)
    for key in ("loglik", "dloglik_dx", "dloglik_dy"):
        assert grid[key].shape == (5, 5) and np.all(np.isfinite(grid[key])), key
    assert grid["x"][0] > 0 and grid["x"][-1] < 1.5 and grid["y"][0] > -2.0  # inside the prior support
    for iy, ix in ((1, 1), (2, 3), (4, 0)):
        fx, fy = finite_difference_grad(model, truth, 1.05 * obs, err, "dust_tau_diff", "met_logzsol",
                                        grid["x"][ix], grid["y"][iy], h=1e-5)
        scale = 1.0 + np.hypot(fx, fy)
        assert abs(grid["dloglik_dx"][iy, ix] - fx) < 1e-4 * scale
        assert abs(grid["dloglik_dy"][iy, ix] - fy) < 1e-4 * scale
    # the value grid is the same log-likelihood: its numerical gradient agrees in sign
    assert np.sign(np.diff(grid["loglik"], axis=1)[2, 0]) == np.sign(grid["dloglik_dx"][2, 0])
    for suffix in ("npz", "h5"):
        path = tmp_path / f"grid.{suffix}"
        save_grad_field(grid, path, meta={"galaxy_id": 3})
        back = load_grad_field(path)
        np.testing.assert_array_equal(back["dloglik_dx"], grid["dloglik_dx"])
        assert back["y_name"] == "met_logzsol" and back["meta"]["galaxy_id"] == 3
        assert back["params"]["dust_tau_diff"] == 0.6


def test_posterior_spectra(default_model, tmp_path):
    import jax

    from sedjax.analysis.ppc import posterior_spectra, truth_spectrum

    model = default_model
    draws = model.spec.sample_batch(jax.random.PRNGKey(0), 12)
    samples = {k: np.array(draws[k]) for k in model.spec.free_params}
    samples["met_logzsol"][3] = np.nan  # a failed draw is skipped
    res = FitResult(backend="nuts", samples=samples, meta={"redshift": 0.1})
    r = posterior_spectra(model, res, n_draws=8, seed=1)
    assert r["n_draws"] == 8 and r["phot_draws"].shape == (8, len(model.bands))
    assert r["spec_p50"].shape == r["wave_obs_aa"].shape
    assert np.all(r["spec_p16"] <= r["spec_p50"]) and np.all(r["spec_p50"] <= r["spec_p84"])
    one = FitResult(backend="map", samples={k: v[:1] for k, v in samples.items()}, meta={"redshift": 0.1})
    r1 = posterior_spectra(model, one, n_draws=8)
    assert r1["n_draws"] == 1
    np.testing.assert_allclose(r1["spec_p16"], r1["spec_p84"])
    p0 = {k: float(v[0]) for k, v in samples.items()}
    t = truth_spectrum(model, {**p0, "log_mass_formed": 10.0})
    np.testing.assert_allclose(t["fnu"], r1["spec_p50"], rtol=1e-10)
    np.testing.assert_allclose(t["phot"], r1["phot_p50"], rtol=1e-10)


def test_bench_sampler_record(default_model, tmp_path):
    """The sampler benchmark on a tiny VI run: cold/warm timings and status in the JSON."""
    from sedjax.bench.sampler import bench_sampler

    model = default_model
    obs = np.asarray(model.predict_photometry(model.spec.sample(__import__("jax").random.PRNGKey(2))))
    res = bench_sampler(model, {"flux": obs, "flux_err": 0.1 * obs}, backends=("vi", "nonexistent"),
                        options={"vi": {"n_steps": 20, "n_samples": 50}}, warm_repeats=2)
    r = res["backends"]["vi"]
    assert r["cold_s"] >= r["compile_s"] > 0 and r["warm"]["n"] == 2
    assert r["cold_s"] == pytest.approx(r["lower_s"] + r["compile_s"] + r["first_run_s"])
    assert r["iterations"] == 20 and r["ms_per_iteration"] > 0 and r["status"] in ("ok", "failed")
    assert "KeyError" == res["backends"]["nonexistent"]["error"]["type"]
    assert res["provenance"]["float_precision"] == "float64"
    write_json(tmp_path / "sampler.json", res)
    plot_sampler_compile({"cpu": json.loads((tmp_path / "sampler.json").read_text())}, tmp_path / "s.png", pdf=False)
    assert_png(tmp_path / "s.png")
