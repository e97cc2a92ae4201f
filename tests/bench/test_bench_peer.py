"""sedjax.bench.peer: the bagpipes parameter mapping and the peer comparison record."""

import math

import numpy as np
import pytest

from sedjax.bench.peer import bagpipes_components, bench_peer, write_bagpipes_filters


def test_bagpipes_mapping(default_model, params, tmp_path):
    c = bagpipes_components(default_model, params)
    p = {k: float(v) for k, v in params.items()}
    assert c["redshift"] == pytest.approx(0.1)
    assert c["dust"]["type"] == "CF00"
    assert c["dust"]["Av"] == pytest.approx(1.0857 * p["dust_tau_diff"])
    assert c["dust"]["eta"] == pytest.approx(1 + p["dust_tau_bc"] / p["dust_tau_diff"])
    assert c["dust"]["n"] == pytest.approx(0.7)
    assert c["dblplaw"]["metallicity"] == pytest.approx(10 ** p["met_logzsol"])
    assert c["dblplaw"]["massformed"] == pytest.approx(float(default_model.derived(params)["log_mass_formed"]))
    paths = write_bagpipes_filters(default_model, tmp_path)
    assert len(paths) == len(default_model.bands)
    curve = np.loadtxt(paths[0])
    assert curve.shape[1] == 2 and np.all(np.diff(curve[:, 0]) > 0)


@pytest.mark.slow
def test_bench_peer(default_model, params, tmp_path, checks):
    r = checks.roundtrip(tmp_path, bench_peer(default_model, params, repeats=2), "peer")
    for mode in ("fast", "exact"):
        checks.stats(r["ours"][mode]["jit"], 2)
        assert len(r["ours"][mode]["ab_mag"]) == len(default_model.bands)
    if r["bagpipes_error"] is None:
        checks.stats(r["bagpipes_update"], 2)
        assert checks.is_time(r["ratios"]["bagpipes_over_fast"])
        assert len(r["mag_diff_ours_exact_minus_bagpipes"]) == len(default_model.bands)
        assert all(math.isfinite(d) for d in r["mag_diff_ours_exact_minus_bagpipes"])
        assert all(math.isfinite(d) for d in r["mag_diff_exact_minus_bagpipes_dl_corrected"])
        assert r["luminosity_distance_mpc"]["ours"] > 0 and r["luminosity_distance_mpc"]["bagpipes"] > 0
    else:  # recorded, not raised
        assert r["bagpipes_error"]["message"] is not None
        assert r["ratios"]["bagpipes_over_fast"] is None
    checks.provenance(r["provenance"])
