"""Every backend on a high-S/N mock galaxy of the default model.

Which parameters are "well constrained": with five optical bands the normalisation of the
SED is measured to ~1% at S/N = 100, so the stellar mass (formed and surviving) is pinned
within the age–dust–metallicity degeneracy (those three trade colour against colour, so
their individual posteriors stay broad and prior-dominated and are not tested here).
"""

import jax
import numpy as np
import pytest

from sedjax.fitting.single import fit
from sedjax.inference import OPTIMIZED_COMPILE

SMALL = {
    "map": {"n_starts": 4, "n_steps": 150},
    "laplace": {"n_starts": 4, "n_steps": 150, "n_samples": 500},
    "pathfinder": {"n_samples": 1000, "n_paths": 8},
    # S/N 100 is marginal for 200 draws per chain: R-hat < 1.1 held for 6 of keys 3-9 at d188a32
    # and 3 of 7 after the SFH's custom JVP changed the rounding; with 1 000 draws keys 3-5 pass
    "nuts": {"n_chains": 4, "n_warmup": 500, "n_samples": 1000},
    "vi": {"n_steps": 1000, "n_samples": 500},
    "ns": {"n_live": 100, "n_samples": 500},
}
WELL_CONSTRAINED = ["log_mass_formed", "log_mass_surviving"]
PSIS_CHECKED = ("laplace", "pathfinder", "vi")  # approximations whose draws PSIS may reject
# NUTS's 6 000 deep-tree steps cost more than its compile: fully optimised code (55 s for
# this test, against 147 s with the session's quick XLA flags: tests/conftest.py)
COMPILE = {"nuts": OPTIMIZED_COMPILE}


@pytest.fixture(scope="module")
def galaxy(default_model):
    truth = default_model.spec.sample(jax.random.PRNGKey(21))
    flux = np.asarray(default_model.predict_photometry(truth, mode="exact"))
    err = 0.01 * flux
    noisy = flux + err * np.asarray(jax.random.normal(jax.random.PRNGKey(22), flux.shape))
    derived = {k: float(v) for k, v in default_model.derived(truth).items()}
    return truth, derived, {"flux": noisy, "flux_err": err}


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(SMALL))
def test_backend_recovers_mass_at_high_snr(default_model, galaxy, backend):
    truth, derived, obs = galaxy
    res = fit(default_model, obs, backend, jax.random.PRNGKey(3), options=SMALL[backend],
              compiler_options=COMPILE.get(backend))
    if backend in PSIS_CHECKED and res.status == "failed":
        # the fit ran; PSIS against the exact posterior judged the approximation (at S/N 100
        # Laplace's k-hat sits near the 0.7 threshold): only that verdict may fail it
        assert all(part.startswith("PSIS k-hat") for part in res.reason.split("; ")), res.reason
        assert float(res.diagnostics["k_hat"]) > 0.7  # inf: a degenerate tail, also untrustworthy
    else:
        assert res.status == "ok", res.reason
    for name in WELL_CONSTRAINED:
        draws = res.derived[name]
        if backend == "map":  # a point estimate: the mode lies near the truth
            assert abs(float(draws[0]) - derived[name]) < 0.1, (name, draws[0], derived[name])
            continue
        lo, hi = np.nanpercentile(draws, [0.5, 99.5])
        assert lo <= derived[name] <= hi, (name, lo, hi, derived[name])
