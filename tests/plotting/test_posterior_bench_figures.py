"""Figures and summary section of the posterior benchmark, from a synthetic record and synthetic draws."""

import json

import numpy as np
from testlib import assert_png

from sedjax.io.jsonio import write_json
from sedjax.io.sample_sets import read_sample_sets, write_sample_sets
from sedjax.plotting.posterior_bench import plot_posterior_overlay, plot_posterior_time
from sedjax.plotting.report import build_sections, render_markdown


def _backend(cold, warm, status="ok", ess=None, bagpipes_s=80.0):
    return {"lower_s": 1.0, "compile_s": cold - warm - 1.0, "first_run_s": warm, "cold_s": cold,
            "warm": {"median_s": warm, "iqr_s": 0.01, "min_s": warm, "n": 2}, "status": status,
            "model_evaluations": 1234, "ess": ess, "ess_per_s": None if ess is None else ess / warm,
            "rhat_max": 1.004 if ess else None,
            "ratios": {"bagpipes_over_warm": bagpipes_s / warm, "bagpipes_over_cold": bagpipes_s / cold,
                       "ess_per_s_over_bagpipes": None if ess is None else (ess / warm) / 30.0}}


def synthetic_record():
    rec = {"benchmark": "posterior", "reference": "nuts", "frac_err": 0.1, "n_free": 6, "warm_repeats": 2,
           "backends": {"nuts": _backend(55.0, 2.5, ess=600.0), "map": _backend(14.0, 0.05),
                        "vi": _backend(12.0, 0.4, status="failed", ess=10.0),
                        "ns": {"error": {"type": "ValueError", "message": "need 1 <= num_delete < n_live"}}},
           "bagpipes": {"fit_s": 80.0, "import_s": 2.0, "setup_s": 0.01, "n_likelihood_calls": 9500,
                        "n_eff": 2400.0, "ess_per_s": 30.0, "n_live": 400},
           "provenance": {"cpu_model": "Test CPU"}}
    rec["headline"] = {"reference": "nuts", "available": True, "reference_status": "ok", "reference_warm_s": 2.5,
                       "reference_cold_s": 55.0, "bagpipes_fit_s": 80.0, "bagpipes_over_warm": 32.0,
                       "bagpipes_over_cold": 80.0 / 55.0, "ess_per_s_over_bagpipes": 8.0,
                       "goal_bagpipes_over_warm": 30.0, "goal_met": True,
                       "fastest_posterior": {"backend": "nuts", "warm_s": 2.5, "cold_s": 55.0, "ess": 600.0,
                                             "ess_key": "ess_bulk", "bagpipes_over_warm": 32.0,
                                             "ess_per_s_over_bagpipes": 8.0},
                       "goal_met_by_fastest": True}
    return rec


def synthetic_sets(rng):
    def draws(n, shift):
        return {"samples": {"sfh_log_mass_formed": rng.normal(10.4 + shift, 0.1, n),
                            "met_logzsol": rng.uniform(-2, 0.2, n), "dust_tau_diff": rng.uniform(0, 1, n)},
                "derived": {"log_mass_surviving": rng.normal(10.1 + shift, 0.1, n),
                            "sfr_100myr": 10 ** rng.normal(0.1, 0.3, n),
                            "mass_weighted_age_gyr": rng.uniform(2, 6, n)}}

    return {"nuts": draws(2000, 0.0), "bagpipes": draws(500, 0.03), "map": draws(1, 0.0)}


def test_plot_posterior_time_from_the_json(tmp_path):
    write_json(tmp_path / "posterior.json", synthetic_record())
    rec = json.loads((tmp_path / "posterior.json").read_text())
    paths = plot_posterior_time(rec, tmp_path / "t.png", pdf=True)
    assert paths == [str(tmp_path / "t.png"), str(tmp_path / "t.pdf")]
    assert_png(tmp_path / "t.png")
    # bagpipes failed, every backend raised: still a figure, saying so
    rec["bagpipes"] = {"error": {"type": "ImportError", "message": "no bagpipes"}}
    plot_posterior_time(rec, tmp_path / "t2.png", pdf=False)
    assert_png(tmp_path / "t2.png")
    plot_posterior_time({"backends": {"nuts": {"error": {"type": "KeyError"}}}, "bagpipes": rec["bagpipes"]},
                        tmp_path / "t3.png", pdf=False)
    assert (tmp_path / "t3.png").exists()


def test_plot_posterior_overlay_from_the_h5(tmp_path):
    rng = np.random.default_rng(0)
    write_sample_sets(tmp_path / "s.h5", synthetic_sets(rng),
                      {"reference": "nuts", "truth": {"sfh_log_mass_formed": 10.4, "met_logzsol": -0.3}})
    sets, meta = read_sample_sets(tmp_path / "s.h5")
    plot_posterior_overlay(sets, tmp_path / "o.png", reference=meta["reference"], truth=meta["truth"], pdf=False)
    assert_png(tmp_path / "o.png")
    # a reference without draws: a note, not a crash
    plot_posterior_overlay({"bagpipes": sets["bagpipes"]}, tmp_path / "o2.png", reference="nuts", pdf=False)
    assert (tmp_path / "o2.png").exists()


def test_summary_section_states_the_ratio_and_the_goal(tmp_path):
    figs = [str(tmp_path / "figures" / "posterior_time.png"), str(tmp_path / "figures" / "posterior_overlay.png")]
    sections = build_sections(tmp_path / "summary.md", figures=figs, posterior=synthetic_record())
    s = next(s for s in sections if s["title"] == "Time to a posterior vs bagpipes")
    assert "32× the warm time" in s["text"][0] and "goal: ≥ 30× warm, met" in s["text"][0]
    assert "Fastest posterior that passed its own checks: NUTS" in s["text"][1]
    rows = {r[0]: r for r in s["tables"][0]["rows"]}
    assert set(rows) == {"NUTS", "MAP", "VI", "Nested sampling", "bagpipes + nautilus"}
    assert rows["NUTS"][7] == "32" and rows["VI"][-1] == "failed" and rows["Nested sampling"][1].startswith("error")
    assert rows["bagpipes + nautilus"][2] == "80" and rows["bagpipes + nautilus"][3] == "9500"
    assert [p for _, p in s["figures"]] == ["figures/posterior_time.png", "figures/posterior_overlay.png"]
    assert "Time to a posterior vs bagpipes" in render_markdown(sections)
    assert not [s for s in build_sections(tmp_path / "summary.md") if "bagpipes" in s["title"]]
