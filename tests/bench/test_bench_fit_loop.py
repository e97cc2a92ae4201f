"""sedjax.bench.fit_loop: the galaxies, one backend's loop and a fresh process, the record's structure."""

import numpy as np
import pytest
from testlib import posterior_bench_defaults

from sedjax.bench.fit_loop import fit_loop_backend, goals, loop_galaxies, run_fit_loop_benchmark
from sedjax.bench.posterior import mock_observation, posterior_model_config
from sedjax.bench.timing import CompileCounter
from sedjax.io.jsonio import write_json
from sedjax.model.from_config import model_from_config


@pytest.fixture(scope="module")
def bench_model(ssp_path, model_cfg):
    return model_from_config(posterior_model_config(model_cfg, posterior_bench_defaults()["params"]), ssp_path)


def test_loop_galaxies_truth_first_then_prior_draws(bench_model):
    post = posterior_bench_defaults()
    gals = loop_galaxies(bench_model, post["truth"], 3, 0.1, seed=4)
    assert len(gals) == 3 and gals[0]["truth"] == post["truth"]
    obs0, _ = mock_observation(bench_model, post["truth"], 0.1, 4)
    np.testing.assert_array_equal(gals[0]["flux"], obs0["flux"])
    assert gals[1]["truth"] != gals[2]["truth"] and not np.allclose(gals[1]["flux"], gals[2]["flux"], rtol=1e-3, atol=0)
    for g in gals[1:]:  # prior draws inside the prior
        assert set(g["truth"]) == set(bench_model.spec.free_params)
        assert np.isfinite(float(bench_model.spec.log_prior(bench_model.spec.with_fixed(g["truth"]))))
    again = loop_galaxies(bench_model, post["truth"], 3, 0.1, seed=4)
    np.testing.assert_array_equal(again[2]["flux"], gals[2]["flux"])


def test_goals_read_the_record():
    rec = {"backends": {
        "map": {"later_xla_compiles": 0, "later": {"median_s": 0.05}},
        "auto": {"later_xla_compiles": 2, "later": {"median_s": 3.0}, "later_is_path": {"median_s": 0.8},
                 "ratios": {"bagpipes_over_later": 40.0},
                 "calls": [{"path": 0, "xla_compiles": 5}, {"path": 1, "xla_compiles": 1}, {"path": 1, "xla_compiles": 1}]},
        "auto2": {"later_xla_compiles": 3, "later": {"median_s": 0.5}, "later_is_path": {"median_s": 0.5},
                  "calls": [{"path": 0, "xla_compiles": 5}, {"path": 1, "xla_compiles": 3}, {"path": 0, "xla_compiles": 0}]},
        "nuts": {"later_xla_compiles": 0, "later": {"median_s": 1.2}, "later_run": {"median_s": 1.0}},
        "is": {"error": {"type": "X"}}},
        "fresh_process": {"auto": {"cold": {"first_fit_s": 20.0}, "warm": {"first_fit_s": 4.0}}}}
    g = goals(rec)
    assert g["map"] == {"later_zero_compiles": True, "later_s": 0.05, "later_s_goal": 0.1, "later_s_met": True}
    # auto's second stage may compile at the first HMC-path galaxy, never again
    assert g["auto"]["later_zero_compiles"] is False and g["auto"]["later_s"] == 0.8 and g["auto"]["later_s_met"]
    assert g["auto2"]["later_zero_compiles"] is True
    assert g["nuts"]["overhead_over_run"] == pytest.approx(0.2) and g["nuts"]["overhead_met"] is False
    assert "is" not in g and g["auto_over_bagpipes"]["met"] is True
    assert g["fresh_auto"] == {"cold_s": 20.0, "warm_s": 4.0, "cold_met": False, "warm_met": True}


def test_tiny_fit_loop_record(ssp_path, model_cfg, tmp_path):
    """map on 3 galaxies: calls 2..N compile nothing; the fresh process compiles into an empty
    cache and then loads from it; the record is JSON-ready."""
    post = posterior_bench_defaults()
    cfg = {"n_galaxies": 3, "backends": ["map"], "fresh_process": ["map"], "bagpipes": False}
    rec = run_fit_loop_benchmark(model_cfg, ssp_path, cfg, post, {"mode": "fast"},
                                 {"map": {"n_starts": 2, "n_library_starts": 2}})
    r = rec["backends"]["map"]
    assert not r.get("error"), r
    assert [c["galaxy"] for c in r["calls"]] == [0, 1, 2] and r["later"]["n"] == 2
    assert r["first_xla_compiles"] > 0 and r["first_compile_s"] > 0
    assert r["later_xla_compiles"] == 0 and all(c["compile_s"] == 0 for c in r["calls"][1:])
    assert rec["goals"]["map"]["later_zero_compiles"] is True
    assert "bagpipes" not in rec and r["ratios"]["bagpipes_over_later"] is None
    f = rec["fresh_process"]["map"]
    assert not f.get("error"), f
    assert f["cold"]["cache_dir"] == f["warm"]["cache_dir"] and "sedjax-fit-loop-cache-" in f["cold"]["cache_dir"]
    assert f["cold"]["cache_misses"] > 0 and f["cold"]["cache_hits"] == 0
    # the warm process loads what the cold one wrote; a program whose compile takes about the
    # cache's 0.5 s threshold may be written by neither (under load: one such miss was seen)
    assert f["warm"]["cache_hits"] > 0 and f["warm"]["cache_misses"] < f["cold"]["cache_misses"]
    assert f["cold"]["status"] == f["warm"]["status"] == r["calls"][0]["status"]
    write_json(tmp_path / "fit_loop.json", rec)


def test_a_backend_counts_compiles_per_call(bench_model):
    post = posterior_bench_defaults()
    gals = loop_galaxies(bench_model, post["truth"], 2, 0.1, seed=0)
    out = fit_loop_backend(lambda: bench_model, "map", gals, {"n_starts": 2, "n_library_starts": 2}, 0, "fast",
                           CompileCounter())
    assert out["later_xla_compiles"] == 0 and out["calls"][1]["xla_compiles"] == 0
    # one Fitter, each of its programs compiled once and run for both galaxies
    assert [f["backend"] for f in out["fit_cache"]] == ["map"]
    assert out["fit_cache"][0]["programs"] and all(p["calls"] == 2 for p in out["fit_cache"][0]["programs"])
