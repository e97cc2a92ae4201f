"""bench.redshift: batched fits at per-galaxy redshifts vs the fixed one (record only, no timing asserts)."""

import jax
import numpy as np

from sedjax import SEDModel
from sedjax.bench.redshift import redshift_cost
from testlib import DEFAULT_BANDS, default_spec


def test_redshift_cost_record(ssp):
    model = SEDModel(default_spec(), ssp, bands=DEFAULT_BANDS, z_range=(0.08, 0.12))
    z = np.array([0.085, 0.115])
    flux = np.stack([np.asarray(model.predict_photometry({**model.spec.sample(jax.random.PRNGKey(i)),
                                                          "redshift": zi}, mode="exact"))
                     for i, zi in enumerate(z)])
    arrays = {"ids": np.arange(2), "flux": flux, "flux_err": 0.05 * flux, "mask": np.ones_like(flux, bool),
              "redshift": z}
    rec = redshift_cost(model, arrays, "map", options={"n_starts": 1, "n_library_starts": 0, "lm_steps": 3})
    assert rec["fixed_z"]["z_min"] == rec["fixed_z"]["z_max"] == model.fixed_redshift
    assert (rec["varying_z"]["z_min"], rec["varying_z"]["z_max"]) == (0.085, 0.115)
    assert rec["grid_nodes"] >= 2  # the varying-z fit interpolated tables from the redshift grid
    assert np.isfinite(rec["ratio_varying_over_fixed"]) and rec["ratio_varying_over_fixed"] > 0
    assert rec["varying_z"]["n_galaxies"] == rec["fixed_z"]["n_galaxies"] == 2
