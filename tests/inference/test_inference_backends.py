"""Inference backends against known answers (generic targets, no SED model).

Tolerances are Monte-Carlo standard errors times Z (Z = 4 for moments, i.e. a
two-sided ~6e-5 false-alarm probability per comparison; the seeds are fixed, so
the tests are deterministic).  For a moment E[f(x)] estimated from draws with
effective sample size n_eff, SE = sd(f) / sqrt(n_eff), with n_eff the number of
draws (iid backends), the ESS of the f-series over the chains (NUTS), or
1 / (1/n_draws + 1/ESS_weights) for nested sampling's resampled draws.
"""

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sedjax.inference import (
    BACKENDS,
    FitResult,
    LaplaceOpts,
    MAPOpts,
    Target,
    assess_status,
    bind,
    ess_basic,
    ess_bulk,
    run_backend,
    run_backend_batch,
    run_laplace,
    run_map,
    split_rhat,
)

Z = 4.0  # moment tolerance in standard errors

MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 0.5]])
PREC = np.linalg.inv(COV)
BOX = 10.0  # uniform prior on [-BOX, BOX]^3 (>= 5.6 sigma from the mean in every
# marginal: the truncated mass is < 1e-7, negligible against the NS error)
D = 3


def loglik(u, data):
    r = u - data["mean"]
    return -0.5 * r @ data["prec"] @ r


def logprior(u, data):
    inside = jnp.all(jnp.abs(u) < BOX)
    return jnp.where(inside, -D * jnp.log(2 * BOX), -jnp.inf)


def logdensity(u, data):
    return loglik(u, data) + logprior(u, data)


def init_fn(key):
    return jax.random.uniform(key, (D,), minval=-BOX, maxval=BOX)


TARGET = Target(logdensity, init_fn, loglik_fn=loglik, logprior_fn=logprior)
DATA = {"mean": jnp.asarray(MEAN), "prec": jnp.asarray(PREC)}
# log of  int L(u) pi(u) du  for the unnormalised Gaussian L and the box prior
LOGZ_TRUE = 0.5 * D * np.log(2 * np.pi) + 0.5 * np.log(np.linalg.det(COV)) - D * np.log(2 * BOX)

SHIFTS = np.array([[0.0, 0.0, 0.0], [1.5, -1.0, 0.3], [-2.0, 0.5, -1.0]])
DATA3 = {
    "mean": jnp.asarray(MEAN[None, :] + SHIFTS),
    "prec": jnp.broadcast_to(jnp.asarray(PREC), (3, D, D)),
}

ALL = ["map", "laplace", "pathfinder", "nuts", "vi", "ns"]


@lru_cache(maxsize=None)
def single_fn(name):
    """jit(backend) with default opts, compiled once per test session."""
    return jax.jit(bind(name, TARGET))


@lru_cache(maxsize=None)
def single_out(name, seed=0):
    return jax.device_get(single_fn(name)(jax.random.key(seed), DATA))


_ess_basic = jax.jit(ess_basic)
_rhat = jax.jit(split_rhat, static_argnames=("rank_normalize",))
_ess_bulk = jax.jit(ess_bulk)


def key(seed):
    return jax.random.key(seed)


# ----------------------------------------------------------------- helpers


def _product_series(x, i, j):
    return (x[..., i] - MEAN[i]) * (x[..., j] - MEAN[j])


def check_moments(x, n_eff_fn, label):
    """Mean and covariance of draws ``x`` (..., d) against MEAN / COV.

    ``n_eff_fn(series)`` returns the effective sample size of a scalar series laid
    out like ``x[..., 0]``.  Covariances are checked through the centred products
    (x_i - mu_i)(x_j - mu_j), whose mean is COV_ij.
    """
    for i in range(D):
        s = x[..., i]
        se = np.std(s) / np.sqrt(n_eff_fn(s))
        assert abs(np.mean(s) - MEAN[i]) < Z * se, (label, "mean", i, np.mean(s), se)
    for i in range(D):
        for j in range(i, D):
            p = _product_series(x, i, j)
            se = np.std(p) / np.sqrt(n_eff_fn(p))
            assert abs(np.mean(p) - COV[i, j]) < Z * se, (label, "cov", i, j, np.mean(p), se)


def iid_n(series):
    return series.size


def assert_tree_close(a, b, tol=1e-10):
    assert set(a) == set(b)
    for k in a:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        assert x.shape == y.shape, k
        if x.dtype.kind in "biu":
            np.testing.assert_array_equal(x, y, err_msg=k)
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=k)


# -------------------------------------------------------------- accuracy


def test_map_finds_mode():
    out = single_out("map")
    assert out["samples"].shape == (1, D)
    np.testing.assert_allclose(out["samples"][0], MEAN, atol=1e-5)
    assert out["grad_norm"] < 1e-5
    assert out["losses"].shape == (MAPOpts().n_starts,)
    assert assess_status("map", out, out["samples"]) == ("ok", "")


def test_laplace_exact_for_gaussian():
    out = single_out("laplace")
    n = LaplaceOpts().n_samples
    assert out["samples"].shape == (n, D)
    np.testing.assert_allclose(out["mode"], MEAN, atol=1e-5)
    np.testing.assert_allclose(out["cov"], COV, atol=1e-8)
    assert bool(out["hessian_posdef"]) and out["hessian_min_eig"] > 0
    # Laplace evidence is exact for a Gaussian (the box prior is a constant)
    np.testing.assert_allclose(out["log_evidence"], LOGZ_TRUE, atol=1e-8)
    check_moments(out["samples"], iid_n, "laplace")
    # importance ratio p/q is constant for an exact approximation
    assert np.ptp(out["log_ratio"]) < 1e-8
    assert assess_status("laplace", out, out["samples"]) == ("ok", "")


def test_pathfinder_gaussian():
    out = single_out("pathfinder")
    assert out["samples"].shape == (1000, D)
    check_moments(out["samples"], iid_n, "pathfinder")
    # Pathfinder's L-BFGS Gaussian is (near-)exact in 3-D: the ELBO reaches log Z
    assert abs(out["elbo"] - LOGZ_TRUE) < 0.05
    assert assess_status("pathfinder", out, out["samples"])[0] == "ok"


def test_vi_fullrank_gaussian():
    out = single_out("vi")
    assert out["elbo_trace"].shape == (2000,)
    check_moments(out["samples"], iid_n, "vi")
    # fullrank family contains the target: ELBO -> log Z, log p - log q -> const
    assert abs(out["elbo"] - LOGZ_TRUE) < 0.01
    assert np.std(out["log_ratio"]) < 0.05
    assert assess_status("vi", out, out["samples"])[0] == "ok"


def test_nuts_gaussian():
    out = single_out("nuts")
    chains = out["chains"]
    assert chains.shape == (4, 1000, D)
    assert out["samples"].shape == (4000, D)
    np.testing.assert_array_equal(out["samples"], chains.reshape(-1, D))
    assert out["rhat_max"] < 1.01
    assert out["n_divergent"] == 0
    assert 0.6 < out["accept_mean"] < 1.0

    def n_eff(series):  # series laid out (n_chains, n_draws)
        return float(_ess_basic(series[..., None])[0])

    check_moments(chains, n_eff, "nuts")
    assert assess_status("nuts", out, out["samples"]) == ("ok", "")


def test_ns_gaussian_moments_and_evidence():
    out = single_out("ns")
    assert bool(out["converged"])
    assert out["samples"].shape == (1000, D)
    err = float(out["logZ_err"])
    assert 0.3 * out["logZ_err_skilling"] < err < 3 * out["logZ_err_skilling"]
    assert abs(out["logZ"] - LOGZ_TRUE) < 3 * err, (out["logZ"], LOGZ_TRUE, err)
    n_eff = 1.0 / (1.0 / 1000 + 1.0 / float(out["ess"]))
    check_moments(out["samples"], lambda s: n_eff, "ns")
    assert assess_status("ns", out, out["samples"]) == ("ok", "")


# ---------------------------------------------------- determinism and vmap


@pytest.mark.parametrize("name", ALL)
def test_same_key_same_result_different_key_differs(name):
    a = single_out(name, 0)
    b = jax.device_get(single_fn(name)(key(0), DATA))
    c = single_out(name, 1)
    for k in a:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)
    if name == "map":  # all starts reach the same mode; the paths there differ
        assert any(not np.array_equal(a[k], c[k]) for k in a)
    else:
        assert not np.allclose(a["samples"], c["samples"])


@pytest.mark.parametrize("name", ALL)
def test_vmap_equals_single_runs(name):
    keys = jax.random.split(key(7), 3)
    batched = jax.device_get(jax.jit(jax.vmap(bind(name, TARGET)))(keys, DATA3))
    for g in range(3):
        data_g = jax.tree.map(lambda x: x[g], DATA3)
        single = jax.device_get(single_fn(name)(keys[g], data_g))
        assert_tree_close({k: v[g] for k, v in batched.items()}, single)
    # the galaxies really are different posteriors
    if name != "map":
        m = batched["samples"].mean(axis=1)
        np.testing.assert_allclose(m - m[0], SHIFTS, atol=0.5)


def test_run_backend_timings_and_batch():
    raw, c, r = run_backend("map", key(3), TARGET, DATA, n_starts=2, n_steps=50)
    assert c > 0 and r > 0
    assert raw["losses"].shape == (2,)
    keys = jax.random.split(key(3), 3)
    rawb, cb, rb = run_backend_batch("map", keys, TARGET, DATA3, MAPOpts(n_starts=2, n_steps=50))
    assert rawb["samples"].shape == (3, 1, D)
    np.testing.assert_allclose(rawb["samples"][:, 0], MEAN + SHIFTS, atol=1e-5)
    assert set(BACKENDS) == set(ALL) | {"is", "auto"}  # those two: tests/inference/test_importance_auto.py
    for name, entry in BACKENDS.items():
        assert callable(entry.run) and hash(entry.opts_cls()) is not None


# ---------------------------------------------------------- status logic


def test_status_flags_nan_density():
    def nan_logdensity(u, data):
        return jnp.where(u[0] > 100.0, 0.0, jnp.nan) * jnp.sum(u**2)

    out = run_map(key(0), nan_logdensity, {}, lambda k: jax.random.normal(k, (2,)), MAPOpts(n_starts=2, n_steps=20))
    status, reason = assess_status("map", out, out["samples"])
    assert status == "failed" and "non-finite" in reason
    # synthetic: finite samples but a NaN density value
    s, r = assess_status("nuts", {"logdensity": np.array([0.0, np.nan]), "accept_mean": 0.8, "rhat": np.ones(2)}, np.zeros((2, 2)))
    assert s == "failed" and "log density" in r
    s, r = assess_status("vi", {"elbo_trace": np.array([1.0, np.nan]), "elbo": 1.0}, np.zeros((2, 2)))
    assert s == "failed" and "ELBO" in r


def test_status_flags_saddle_hessian():
    # stationary point at 0 is a saddle of log p (curvature +1 along u1); starting
    # with u1 = 0 exactly, L-BFGS never leaves the u1 = 0 plane and stops there.
    def saddle(u, data):
        return -0.5 * u[0] ** 2 + 0.5 * u[1] ** 2 - 0.5 * u[2] ** 2

    def init(k):
        return jax.random.normal(k, (3,)).at[1].set(0.0)

    out = jax.jit(lambda k: run_laplace(k, saddle, {}, init, LaplaceOpts(n_samples=10)))(key(0))
    np.testing.assert_allclose(out["mode"], 0.0, atol=1e-6)
    assert not bool(out["hessian_posdef"])
    np.testing.assert_allclose(out["hessian_min_eig"], -1.0, atol=1e-8)
    assert np.all(np.isnan(out["samples"]))
    status, reason = assess_status("laplace", out, out["samples"])
    assert status == "failed" and "Hessian not positive definite" in reason


def test_status_flags_rhat_and_zero_acceptance():
    rng = np.random.default_rng(0)
    good = rng.normal(size=(4, 500, 2))
    bad = good + np.array([0.0, 0.0, 3.0, 3.0])[:, None, None]  # chains disagree
    r_good = np.asarray(_rhat(good))
    r_bad = np.asarray(_rhat(bad))
    assert np.all(r_good < 1.01) and np.all(r_bad > 1.1)
    assert np.all(np.asarray(_rhat(bad, rank_normalize=False)) > 1.1)
    base = {"accept_mean": 0.8, "n_divergent": 0, "logdensity": np.zeros(2000)}
    assert assess_status("nuts", {**base, "rhat": r_good}, good.reshape(-1, 2)) == ("ok", "")
    s, r = assess_status("nuts", {**base, "rhat": r_bad}, bad.reshape(-1, 2))
    assert s == "failed" and "R-hat" in r
    s, r = assess_status("nuts", {**base, "rhat": r_good, "accept_mean": 0.0}, good.reshape(-1, 2))
    assert s == "failed" and "zero acceptance" in r
    s, r = assess_status("ns", {"logZ": 1.0, "logZ_err": 0.1, "converged": False}, good.reshape(-1, 2))
    assert s == "failed" and "max_steps" in r
    s, r = assess_status("pathfinder", {"elbo": 1.0}, np.array([[np.nan, 0.0]]))
    assert s == "failed" and "samples" in r


def test_diagnostics_jax_safe_and_correct():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 400, 2))  # (batch, chains, draws, d)
    batched = jax.jit(jax.vmap(lambda c: (split_rhat(c), ess_bulk(c))))(x)
    single = jax.jit(lambda c: (split_rhat(c), ess_bulk(c)))
    for b in range(3):
        r1, e1 = single(x[b])
        np.testing.assert_allclose(batched[0][b], r1, rtol=1e-12)
        np.testing.assert_allclose(batched[1][b], e1, rtol=1e-12)
    # classic split R-hat against a direct numpy implementation
    c = x[0]
    h = c.shape[1] // 2
    sp = np.concatenate([c[:, :h], c[:, h:]], axis=0)
    w = sp.var(axis=1, ddof=1).mean(axis=0)
    bvar = h * sp.mean(axis=1).var(axis=0, ddof=1)
    ref = np.sqrt(((h - 1) / h * w + bvar / h) / w)
    classic = jax.jit(lambda c: split_rhat(c, rank_normalize=False))(c)
    np.testing.assert_allclose(classic, ref, rtol=1e-12)
    # AR(1) chains, rho = 0.5: ESS = N (1 - rho) / (1 + rho) = N / 3.  The
    # estimator's own relative scatter at N = 16000 is a few per cent; 15 % slack.
    rho, n = 0.5, 4000
    e = rng.normal(size=(4, n, 1))
    a = np.zeros_like(e)
    a[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for t in range(1, n):
        a[:, t] = rho * a[:, t - 1] + e[:, t]
    for f in (_ess_bulk, _ess_basic):
        assert abs(float(f(a)[0]) / (4 * n / 3) - 1) < 0.15


# ------------------------------------------------------------- FitResult


def test_fitresult_hdf5_roundtrip(tmp_path):
    out = single_out("nuts")
    names = ["a", "b", "c"]
    fr = FitResult.from_raw(
        "nuts",
        out,
        names,
        compile_s=1.5,
        run_s=0.25,
        derived={"a_plus_b": out["samples"][:, 0] + out["samples"][:, 1]},
        meta={"galaxy_id": "g001", "opts": {"n_chains": 4}, "z": 0.5},
    )
    assert fr.status == "ok"
    path = tmp_path / "sub" / "fit.h5"
    fr.save_hdf5(path)
    assert [p.name for p in path.parent.iterdir()] == ["fit.h5"]  # temp file gone
    back = FitResult.load_hdf5(path)
    assert back.backend == "nuts" and back.status == "ok" and back.reason == ""
    assert back.timings == {"compile_s": 1.5, "run_s": 0.25}
    assert back.meta == fr.meta
    for grp in ("samples", "derived", "diagnostics"):
        a, b = getattr(fr, grp), getattr(back, grp)
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))
    row = back.summary_row()
    assert row["status"] == "ok" and row["run_s"] == 0.25 and row["n_samples"] == 4000
    assert row["a_p16"] < row["a_median"] < row["a_p84"]
    np.testing.assert_allclose(row["a_median"], np.median(out["samples"][:, 0]))
    np.testing.assert_allclose(row["a_plus_b_p84"], np.percentile(out["samples"][:, :2].sum(1), 84))
    assert row["diag_rhat_max"] == pytest.approx(float(out["rhat_max"]))
    assert "diag_rhat" not in row  # vector diagnostics are not summarised
    # boolean / integer diagnostics (laplace, ns) survive too
    for name in ("laplace", "ns"):
        fr = FitResult.from_raw(name, single_out(name), names, compile_s=1.0, run_s=1.0)
        fr.save_hdf5(path)
        back = FitResult.load_hdf5(path)
        for k, v in fr.diagnostics.items():
            assert np.asarray(back.diagnostics[k]).dtype == np.asarray(v).dtype, k
            np.testing.assert_array_equal(back.diagnostics[k], v)
        assert back.summary_row()["diag_" + ("hessian_posdef" if name == "laplace" else "converged")] is True
    # a failed fit keeps its reason through the round trip
    bad = FitResult("laplace", {"a": np.full(3, np.nan)}, status="failed", reason="Hessian not positive definite")
    bad.save_hdf5(path)
    back = FitResult.load_hdf5(path)
    assert back.status == "failed" and back.reason.startswith("Hessian")
    assert np.isnan(back.summary_row()["a_median"])
