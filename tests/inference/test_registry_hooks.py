"""The backend registry owns each backend's knowledge: run, Opts, status checks, iterations.

The status checks are compared, message for message, with the per-backend if/elif that
``assess_status`` held before the checks moved next to each backend (copied below).
"""

import itertools

import numpy as np
import pytest

from sedjax.inference import BACKENDS, assess_status, fit_status, iterations, make_opts
from sedjax.inference.backends.registry import NEEDS_SPLIT


# ------------------------------------------------------------ the old policy
def _old_all_finite(x):
    a = np.asarray(x)
    if a.dtype == bool or a.size == 0:
        return True
    return bool(np.all(np.isfinite(a)))


def _old_assess_status(backend, d, samples, *, rhat_max=1.1, max_divergence_frac=None):
    fails, warns = [], []
    finite = all(_old_all_finite(v) for v in samples.values()) if isinstance(samples, dict) else _old_all_finite(samples)
    if not finite:
        fails.append("non-finite samples")
    if "logdensity" in d and not _old_all_finite(d["logdensity"]):
        fails.append("non-finite log density")
    if backend == "map":
        if not _old_all_finite(d.get("loss", 0.0)):
            fails.append("non-finite loss")
    elif backend == "laplace":
        if "hessian_posdef" in d and not bool(np.asarray(d["hessian_posdef"])):
            fails.append(
                f"Hessian not positive definite (min eigenvalue {float(np.asarray(d.get('hessian_min_eig', np.nan))):.3g})"
            )
        if not _old_all_finite(d.get("loss", 0.0)):
            fails.append("non-finite loss")
    elif backend == "pathfinder":
        if not _old_all_finite(d.get("elbo", 0.0)):
            fails.append("non-finite ELBO")
    elif backend == "vi":
        trace = np.asarray(d.get("elbo_trace", 0.0))
        if np.any(np.isnan(trace)) or not _old_all_finite(d.get("elbo", 0.0)):
            fails.append("non-finite ELBO")
    elif backend == "nuts":
        acc = np.asarray(d.get("accept_mean", 1.0))
        if np.any(~np.isfinite(acc)) or np.any(acc <= 0.0):
            fails.append("zero acceptance")
        if "accept_per_chain" in d and np.any(np.asarray(d["accept_per_chain"]) <= 0.0):
            if "zero acceptance" not in fails:
                fails.append("zero acceptance in some chain")
        if "rhat" in d:
            r = np.asarray(d["rhat"])
            rmax = float(np.max(r)) if r.size else np.nan
            if not np.isfinite(rmax) or rmax > rhat_max:
                fails.append(f"R-hat {rmax:.3f} > {rhat_max}")
        ndiv = int(np.asarray(d.get("n_divergent", 0)))
        if ndiv > 0:
            n_tot = int(np.asarray(d.get("n_transitions", 0))) or None
            frac = ndiv / n_tot if n_tot else np.nan
            msg = f"{ndiv} divergent transitions"
            if max_divergence_frac is not None and (not np.isfinite(frac) or frac > max_divergence_frac):
                fails.append(msg)
            else:
                warns.append("warning: " + msg)
    elif backend == "ns":
        for k in ("logZ", "logZ_err"):
            if k in d and not _old_all_finite(d[k]):
                fails.append(f"non-finite {k}")
        if "converged" in d and not bool(np.asarray(d["converged"])):
            fails.append("nested sampling hit max_steps before converging")
    if fails:
        return "failed", "; ".join(fails)
    return "ok", "; ".join(warns)


_OLD_ITERATIONS = {
    "nuts": lambda o: o.n_warmup + o.n_samples,
    # the MAP stage: LM runs lm_steps iterations, L-BFGS at most n_steps
    "map": lambda o: o.lm_steps if o.optimizer == "lm" else o.n_steps,
    "laplace": lambda o: o.lm_steps if o.optimizer == "lm" else o.n_steps,
    "vi": lambda o: o.n_steps,
    "pathfinder": lambda o: o.maxiter,
}

# ------------------------------------------------------------ synthetic cases
_VALUES = {
    "loss": [1.0, np.nan, np.array([1.0, np.inf])],
    "logdensity": [np.zeros(3), np.array([0.0, np.nan])],
    "hessian_posdef": [True, False, np.bool_(False)],
    "hessian_min_eig": [-1.25, np.nan],
    "elbo": [2.0, -np.inf, np.nan],
    "elbo_trace": [np.array([1.0, -np.inf, 2.0]), np.array([1.0, np.nan])],
    "accept_mean": [0.8, 0.0, np.nan, np.array([0.5, 0.0])],
    "accept_per_chain": [np.array([0.7, 0.8]), np.array([0.7, 0.0])],
    "rhat": [np.ones(2), np.array([1.0, 1.3]), np.array([]), np.array([1.0, np.nan])],
    "n_divergent": [0, 3],
    "n_transitions": [0, 10, 1000],
    "logZ": [1.0, np.nan],
    "logZ_err": [0.1, np.inf],
    "converged": [True, False],
}
_SAMPLES = [np.zeros((4, 2)), np.array([[np.nan, 0.0]]), {"a": np.zeros(3), "b": np.array([0.0, np.inf])}, np.zeros((0, 2))]


def _cases(n=400, seed=0):
    rng = np.random.default_rng(seed)
    keys = list(_VALUES)
    for _ in range(n):
        present = [k for k in keys if rng.random() < 0.5]
        d = {k: _VALUES[k][rng.integers(len(_VALUES[k]))] for k in present}
        yield d, _SAMPLES[rng.integers(len(_SAMPLES))]


@pytest.mark.parametrize("backend", sorted(BACKENDS) + ["unknown"])
def test_status_checks_match_the_old_policy(backend):
    limits = [{}, {"rhat_max": 1.2}, {"max_divergence_frac": 0.001}, {"max_divergence_frac": 0.5, "rhat_max": 1.05}]
    for (d, samples), kw in itertools.product(_cases(), limits):
        assert assess_status(backend, d, samples, **kw) == _old_assess_status(backend, d, samples, **kw), (d, kw)


def test_fit_status_is_from_raw_policy():
    # raw ok, physical draws not finite -> failed with the physical reason
    assert fit_status("map", {"loss": 1.0}, np.zeros((2, 2)), {"a": np.array([np.nan, 0.0])}) == (
        "failed", "non-finite samples")
    # raw failed: its reason wins
    assert fit_status("map", {"loss": np.nan}, np.zeros((2, 2)), {"a": np.array([np.nan])}) == ("failed", "non-finite loss")
    # raw ok with a warning, physical ok: the warning stays
    d = {"accept_mean": 0.8, "n_divergent": 2}
    assert fit_status("nuts", d, np.zeros((2, 2)), {"a": np.zeros(2)}) == ("ok", "warning: 2 divergent transitions")
    # limits reach the backend's checks
    assert fit_status("nuts", {**d, "n_transitions": 10}, np.zeros((2, 2)), max_divergence_frac=0.1)[0] == "failed"
    assert fit_status("nuts", d, np.zeros((2, 2))) == assess_status("nuts", d, np.zeros((2, 2)))


def test_registry_entries_and_iterations():
    for name, entry in BACKENDS.items():
        assert callable(entry.run) and callable(entry.status_checks) and callable(entry.iterations)
        opts = make_opts(name)
        assert isinstance(opts, entry.opts_cls)
        if name in ("is", "auto"):  # added after the if/elif table
            continue
        old = _OLD_ITERATIONS.get(name)
        assert iterations(name, opts) == (None if old is None else int(old(opts)))
    assert iterations("is", make_opts("is", lm_steps=11, n_newton=2)) == 13
    assert iterations("auto", make_opts("auto")) is None  # HMC runs for some galaxies only
    assert iterations("nuts", make_opts("nuts", n_warmup=7, n_samples=5)) == 12
    assert iterations("pathfinder", make_opts("pathfinder", maxiter=9)) == 9
    assert iterations("map", make_opts("map", optimizer="lbfgs", n_steps=17)) == 17
    assert iterations("laplace", make_opts("laplace", lm_steps=11)) == 11
    assert NEEDS_SPLIT == {"ns"}
    with pytest.raises(KeyError):
        iterations("nope", None)
