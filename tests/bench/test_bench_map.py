"""bench_map's record (structure and internal consistency, never timings): a tiny run."""

import jax
import numpy as np
import pytest

from sedjax.bench.map import mock_batch, run_map_benchmark


def test_mock_batch_is_seeded_and_noisy(default_model):
    a = mock_batch(default_model, 4, seed=1, frac_err=0.1)
    b = mock_batch(default_model, 4, seed=1, frac_err=0.1)
    np.testing.assert_array_equal(a["flux"], b["flux"])
    assert a["flux"].shape == (4, len(default_model.bands)) and a["tables"] is None
    np.testing.assert_allclose(a["redshift"], default_model.fixed_redshift)
    assert not np.array_equal(a["flux"], mock_batch(default_model, 4, seed=2)["flux"])


def test_mock_batch_at_own_redshifts_matches_direct_calls(ssp):
    from testlib import DEFAULT_BANDS, default_spec

    from sedjax import SEDModel

    m = SEDModel(default_spec(), ssp, DEFAULT_BANDS, z_range=(0.05, 0.8))
    a = mock_batch(m, 5, seed=1, frac_err=1e-12, redshift_range=(0.2, 0.8))
    z = np.asarray(a["redshift"])
    assert np.all((z >= 0.2) & (z <= 0.8)) and np.unique(z).size == 5
    p = jax.tree.map(lambda x: x[3], m.spec.sample_batch(jax.random.PRNGKey(1), 5))
    direct = m.predict_photometry(dict(p, redshift=z[3]), tables=m.tables_for(float(z[3])))
    np.testing.assert_allclose(a["flux"][3], direct, rtol=1e-6)
    with pytest.raises(ValueError, match="z_range"):
        mock_batch(m, 2, redshift_range=(0.5, 1.2))


@pytest.mark.slow  # two compiled LM programs and one L-BFGS, ~1-2 min on 2 cores
def test_bench_map_record(model_cfg, ssp_path, tmp_path, checks):
    cfg = {"n_galaxies": 4, "n_reference": 3, "reference_starts": 2, "library_size": 50, "frac_err": 0.1, "seed": 0,
           "settings": {"cheap": {"n_starts": 0, "n_library_starts": 1, "lm_steps": 3},
                        "more": {"n_starts": 1, "lm_steps": 5}}}
    out = run_map_benchmark(model_cfg, ssp_path, cfg, {"mode": "fast", "sys_frac": 0.0},
                            {"n_library_starts": 2, "lm_steps": 7})
    assert out["n_galaxies"] == 4 and set(out["settings"]) == {"cheap", "more"}
    cheap, more = out["settings"]["cheap"], out["settings"]["more"]
    assert cheap["options"]["optimizer"] == more["options"]["optimizer"] == "lm"
    # each setting's fields over the backend's options
    assert (cheap["options"]["lm_steps"], cheap["options"]["n_library_starts"], cheap["options"]["n_starts"]) == (3, 1, 0)
    assert (more["options"]["lm_steps"], more["options"]["n_library_starts"], more["options"]["n_starts"]) == (5, 2, 1)
    for block in (cheap, more):
        assert checks.is_time(block["compile_s"]) and checks.is_time(block["run_s"])
        np.testing.assert_allclose(block["gal_per_min"], 60 * 4 / block["run_s"])
        acc = block["accuracy"]
        assert acc["n_galaxies"] == 3 and 0.0 <= acc["frac_within_tol"] <= 1.0
        assert acc["n_worse"] == round(3 * (1 - acc["frac_within_tol"]))
        q = acc["delta_logp_quantiles"]
        assert q["0.0"] <= q["0.5"] <= q["1.0"]
    ref = out["reference"]
    assert ref["n_starts"] == 2 and ref["n_runs"] == 3 * 2 and checks.is_time(ref["run_s"])
    assert 1 <= ref["iterations_median"] <= ref["iterations_max"]
    checks.provenance(out["provenance"])
    assert checks.roundtrip(tmp_path, out, "map")["benchmark"] == "map"

