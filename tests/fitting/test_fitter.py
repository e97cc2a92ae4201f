"""Compile once, fit many: ``Fitter`` and ``fit()`` reuse their compiled programs.

Compilations are counted independently of the Fitter's own bookkeeping, from JAX's
monitoring events (``/jax/core/compile/backend_compile_duration`` fires for every XLA
compile and for every load from the persistent cache, eager operations included). For
every backend: the first galaxy compiles, the second (other fluxes, other key, another
band masked) and the third (another redshift inside the model's range) compile nothing;
another option or another band set does compile; and the cached program's result equals a
freshly compiled program's bit for bit.
"""

import jax
import jax.monitoring
import numpy as np
import pytest

from sedjax import SEDModel
from sedjax.fitting import Fitter, clear_fit_cache, fit, fit_cache_info
from sedjax.inference import BACKENDS, OPTIMIZED_COMPILE

from testlib import DEFAULT_BANDS, SMALL_OPTS, default_spec

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_COUNT = {"n": 0}


def _count(name, _duration, **_kw):
    if name == COMPILE_EVENT:
        _COUNT["n"] += 1


jax.monitoring.register_event_duration_secs_listener(_count)


def compiles_during(fn, *args, **kw):
    before = _COUNT["n"]
    out = fn(*args, **kw)
    return out, _COUNT["n"] - before


# auto: IS never accepts (k-hat < 0 is impossible), so the first galaxy compiles both stages
# and the others must reuse them
OPTS = {**SMALL_OPTS, "auto": {**SMALL_OPTS["auto"], "k_max": 0.0}}
# the backends whose cached result is compared with a fresh program's (one per kind of
# program: optimiser, chains, staged)
FRESH_CHECKED = ("map", "nuts", "auto")


@pytest.fixture(scope="module")
def zmodel(ssp):
    """The default spec at z = 0.1, for galaxies at their own redshifts in [0.05, 0.15]."""
    return SEDModel(default_spec(), ssp, bands=DEFAULT_BANDS, z_range=(0.05, 0.15))


@pytest.fixture(scope="module")
def galaxies(zmodel):
    """Three observations: at the model's redshift; other fluxes with a band masked; z = 0.1234."""
    spec = zmodel.spec
    out = []
    for i, (z, mask) in enumerate([(None, None), (None, [1, 1, 0, 1, 1]), (0.1234, None)]):
        p = spec.sample(jax.random.PRNGKey(100 + i))
        if z is not None:
            p = dict(p, redshift=z)
        f = np.asarray(zmodel.predict_photometry(p, mode="exact"))
        obs = {"flux": f, "flux_err": 0.1 * f}
        if z is not None:
            obs["redshift"] = z
        if mask is not None:
            obs["mask"] = np.asarray(mask, bool)
        out.append(obs)
    return out


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_second_and_third_fit_compile_nothing(zmodel, galaxies, backend):
    fitter = Fitter(zmodel, backend, options=OPTS[backend])
    r0, n0 = compiles_during(fitter.fit, galaxies[0], jax.random.PRNGKey(0))
    assert n0 > 0 and fitter.n_compiles >= 2  # the backend and the conversion of its draws
    if backend == "auto":
        assert {p["name"] for p in fitter.programs} == {"first", "second", "final", "convert"}
        assert int(r0.diagnostics["path"]) == 1
    compiled = fitter.n_compiles
    r1, n1 = compiles_during(fitter.fit, galaxies[1], jax.random.PRNGKey(1))
    r2, n2 = compiles_during(fitter.fit, galaxies[2], jax.random.PRNGKey(2))
    assert (n1, n2) == (0, 0), f"{backend}: fits 2 and 3 compiled {n1} and {n2} programs"
    assert fitter.n_compiles == compiled
    assert r1.timings["compile_s"] == 0.0 and r2.timings["compile_s"] == 0.0
    assert float(r2.meta["redshift"]) == pytest.approx(0.1234)
    assert float(r1.diagnostics["n_usable_bands"]) == 4  # the mask is data, not program
    if backend not in FRESH_CHECKED:
        return
    # a fresh program (traced and compiled again, or loaded from the persistent cache) gives
    # the cached program's answer bit for bit
    fresh = Fitter(zmodel, backend, options=OPTS[backend], target=fitter.target)
    r2_fresh = fresh.fit(galaxies[2], jax.random.PRNGKey(2))
    assert fresh.n_compiles > 0
    for k in r2.samples:
        np.testing.assert_array_equal(r2_fresh.samples[k], r2.samples[k], err_msg=f"{backend} {k}")
    for k in r2.derived:
        np.testing.assert_array_equal(r2_fresh.derived[k], r2.derived[k], err_msg=f"{backend} {k}")
    assert r2_fresh.status == r2.status


def test_fit_reuses_its_cached_fitter_and_an_option_or_band_set_compiles(ssp, zmodel, galaxies):
    clear_fit_cache()
    opts = OPTS["map"]
    _, n0 = compiles_during(fit, zmodel, galaxies[0], "map", jax.random.PRNGKey(0), options=opts)
    assert n0 > 0
    _, n1 = compiles_during(fit, zmodel, galaxies[2], "map", jax.random.PRNGKey(5), options=opts)
    assert n1 == 0
    info = fit_cache_info()
    assert len(info) == 1 and info[0]["backend"] == "map" and info[0]["n_compiles"] == 2
    assert {p["name"] for p in info[0]["programs"]} == {"run", "convert"}
    # another option value is another program
    _, n2 = compiles_during(fit, zmodel, galaxies[0], "map", jax.random.PRNGKey(0), options={**opts, "n_steps": 31})
    assert n2 > 0 and len(fit_cache_info()) == 2
    # another band set is another model, and so other programs
    model4 = SEDModel(default_spec(), ssp, bands=DEFAULT_BANDS[:4])
    obs4 = {k: np.asarray(galaxies[0][k])[:4] for k in ("flux", "flux_err")}
    _, n3 = compiles_during(fit, model4, obs4, "map", jax.random.PRNGKey(0), options=opts)
    assert n3 > 0 and len(fit_cache_info()) == 3
    clear_fit_cache()
    assert fit_cache_info() == []


def test_fit_cache_is_bounded_and_shares_the_target(zmodel, galaxies, monkeypatch):
    import sedjax.fitting.single as single

    clear_fit_cache()
    monkeypatch.setattr(single, "FIT_CACHE_SIZE", 2)
    fitters = [single.fitter_for(zmodel, "map", options={"n_steps": 5 + i}) for i in range(3)]
    assert len(fit_cache_info()) == 2  # the oldest was dropped
    assert fitters[1].target is fitters[2].target  # one prior library per (model, mode, sys_frac, collapse)
    assert single.fitter_for(zmodel, "map", options={"n_steps": 7}) is fitters[2]
    assert single.fitter_for(zmodel, "map", options={"n_steps": 5}) is not fitters[0]
    clear_fit_cache()


def test_compiler_options_reach_xla_and_make_another_fitter(zmodel, galaxies):
    import sedjax.fitting.single as single

    clear_fit_cache()
    opts = {"n_starts": 1, "n_steps": 5}
    plain = single.fitter_for(zmodel, "map", options=opts)
    optimized = single.fitter_for(zmodel, "map", options=opts, compiler_options=OPTIMIZED_COMPILE)
    assert optimized is not plain and optimized.compiler_options == OPTIMIZED_COMPILE
    a, b = (f.fit(galaxies[0], jax.random.PRNGKey(0)) for f in (plain, optimized))
    np.testing.assert_allclose(a.samples["met_logzsol"], b.samples["met_logzsol"], rtol=1e-6)
    # the options are XLA's: one it does not know fails the compile
    with pytest.raises(Exception, match="xla_no_such_option"):
        Fitter(zmodel, "map", options=opts, compiler_options={"xla_no_such_option": 1}).fit(
            galaxies[0], jax.random.PRNGKey(0))
    clear_fit_cache()


def test_fit_many_equals_fit_one_by_one(zmodel, galaxies):
    fitter = Fitter(zmodel, "map", options=OPTS["map"])
    flux = np.stack([g["flux"] for g in galaxies])
    cat = {"ids": np.array([3, 4, 5]), "flux": flux, "flux_err": 0.1 * flux,
           "mask": np.stack([g.get("mask", np.ones(5, bool)) for g in galaxies]),
           "redshift": np.array([0.1, 0.1, 0.1234])}
    many = fitter.fit_many(cat, seed=7)
    assert [r.meta["galaxy_id"] for r in many] == [3, 4, 5]
    one = fitter.fit({"flux": flux[2], "flux_err": 0.1 * flux[2], "redshift": 0.1234},
                     jax.random.fold_in(jax.random.PRNGKey(7), 5))
    for k in one.samples:
        np.testing.assert_array_equal(many[2].samples[k], one.samples[k])
    assert fitter.n_compiles == 2


def test_bad_settings_and_redshifts_are_refused(zmodel, galaxies):
    with pytest.raises(KeyError, match="unknown backend"):
        Fitter(zmodel, "mapp")
    with pytest.raises(ValueError, match="mode"):
        Fitter(zmodel, "map", mode="fats")
    with pytest.raises(ValueError, match="sys_frac"):
        Fitter(zmodel, "map", sys_frac=-0.1)
    fitter = Fitter(zmodel, "map", options=OPTS["map"])
    with pytest.raises(ValueError, match=r"\[0.05, 0.15\]"):
        fitter.data({**galaxies[0], "redshift": 0.3})
    with pytest.raises(ValueError, match="one number"):
        fitter.data({**galaxies[0], "redshift": [0.1, 0.11]})
