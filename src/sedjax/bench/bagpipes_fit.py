"""bagpipes + nautilus on our photometry, with the priors of our spec (rule ``bench_posterior``).

Prior mapping (:func:`prior_mapping`; our spec's dpl + CF00 parameters -> bagpipes'
``fit_instructions``). A row is exact when the two priors are the same distribution of
the same physical quantity; anything that cannot be stated exactly in bagpipes raises
``ValueError`` (naming the parameter) rather than being approximated:

======================  ============================  =========================================
ours                    bagpipes                      map (priors: ours -> bagpipes)
======================  ============================  =========================================
sfh_log_mass_formed     dblplaw:massformed            identity (log10 M☉ formed); uniform ->
                                                      uniform, log_uniform -> ``log_10``
sfh_dpl_tau_gyr         dblplaw:tau                   identity (peak time after the Big Bang, Gyr)
sfh_dpl_alpha / _beta   dblplaw:alpha / :beta         identity (falling / rising slopes)
met_logzsol             dblplaw:metallicity           Z/Z☉ = 10**met_logzsol; uniform ->
                                                      ``log_10`` on [10**a, 10**b]
dust_tau_diff           dust:Av                       Av = 1.0857 τ_diff (2.5 / ln 10, linear);
                                                      uniform -> uniform, log_uniform -> ``log_10``
dust_tau_bc             dust:eta                      eta = 1 + τ_bc / τ_diff: only τ_bc fixed at 0
                                                      (eta = 1) is exact; a τ_bc prior cannot be
                                                      written as a prior on the ratio -> ValueError
dust_slope              dust:n                        n = −slope (fixed, or uniform on [−b, −a])
redshift                redshift                      fixed only (one galaxy, one redshift)
======================  ============================  =========================================

Normal priors and ``sfh_dpl_log_peak_sfr`` (bagpipes normalises the SFH by mass formed)
raise. Fixed values map through the same functions; ``t_bc`` = 0.01 Gyr (our birth
clouds: ages < 10 Myr). The physics still differs where the codes do (cosmology,
IGM, spectral resampling: see :mod:`sedjax.bench.peer`), so the posteriors are expected to
agree closely, not exactly.

:func:`run_bagpipes_fit` runs ``bagpipes.fit(galaxy, fit_instructions).fit(sampler="nautilus")``
in a temporary directory (bagpipes writes ``pipes/`` below its working directory) and
returns the wall times, the likelihood calls (counted by wrapping the fitted model's
``lnlike``), nautilus' effective sample size (``1 / lnz_err**2``: bagpipes stores
``lnz_err = 1 / sqrt(n_eff)``) and the posterior draws in our names
(:func:`bagpipes_to_ours`).
"""

from __future__ import annotations

import contextlib
import io
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from sedjax.bench.peer import import_bagpipes, write_bagpipes_filters
from sedjax.io.provenance import package_version

AV_PER_TAU = 2.5 / math.log(10.0)  # A_V = 1.0857 τ_V
T_BC_GYR = 0.01  # birth-cloud age limit: ours (10 Myr) and bagpipes' t_bc
MAGGIES_TO_MUJY = 3631.0e6

# ours -> (bagpipes key, forward map, inverse map, prior kinds that map exactly)
_LINEAR = ("uniform", "log_uniform")
PARAMS = {
    "sfh_log_mass_formed": ("dblplaw:massformed", lambda x: x, lambda y: y, _LINEAR),
    "sfh_dpl_tau_gyr": ("dblplaw:tau", lambda x: x, lambda y: y, _LINEAR),
    "sfh_dpl_alpha": ("dblplaw:alpha", lambda x: x, lambda y: y, _LINEAR),
    "sfh_dpl_beta": ("dblplaw:beta", lambda x: x, lambda y: y, _LINEAR),
    "met_logzsol": ("dblplaw:metallicity", lambda x: 10.0**x, np.log10, ("uniform",)),
    "dust_tau_diff": ("dust:Av", lambda x: AV_PER_TAU * x, lambda y: y / AV_PER_TAU, _LINEAR),
    "dust_slope": ("dust:n", lambda x: -x, lambda y: -y, ("uniform",)),
    "redshift": ("redshift", lambda x: x, lambda y: y, ()),
}
# bagpipes' derived quantities (fit.posterior.samples) in our names
DERIVED = {
    "formed_mass": "log_mass_formed",
    "stellar_mass": "log_mass_surviving",
    "sfr": "sfr_100myr",  # bagpipes.config.sfr_timescale = 1e8 yr (checked in run_bagpipes_fit)
    "mass_weighted_age": "mass_weighted_age_gyr",
}


def _prior_row(name: str, cfg: dict) -> dict:
    (kind, args), = cfg.items()
    if name == "dust_tau_bc":
        if kind == "fixed" and float(args) == 0.0:
            return {"ours": name, "our_prior": cfg, "bagpipes": "dust:eta", "bagpipes_prior": {"fixed": 1.0},
                    "exact": True, "note": "no birth-cloud dust in either code: eta = 1 + τ_bc/τ_diff = 1"}
        raise ValueError(f"dust_tau_bc {cfg}: bagpipes' CF00 takes eta = 1 + τ_bc/τ_diff, a ratio; a prior on τ_bc "
                         "cannot be stated as a prior on eta. Use dust_tau_bc: 0.0 for matched priors")
    if name not in PARAMS:
        raise ValueError(f"{name}: no bagpipes dblplaw + CF00 counterpart (sfh_dpl_log_peak_sfr: use "
                         "sfh_log_mass_formed, bagpipes normalises the SFH by the mass formed)")
    key, fwd, _, kinds = PARAMS[name]
    row = {"ours": name, "our_prior": cfg, "bagpipes": key, "exact": True}
    if kind == "fixed":
        row["bagpipes_prior"] = {"fixed": float(fwd(float(args)))}
        return row
    if kind not in kinds:
        raise ValueError(f"{name} {cfg}: no exact bagpipes prior for a {kind} prior here "
                         f"(mappable: fixed{', ' if kinds else ''}{', '.join(kinds)})")
    lo, hi = sorted(float(fwd(float(a))) for a in args)
    pdf = "log_10" if kind == "log_uniform" or name == "met_logzsol" else "uniform"
    row["bagpipes_prior"] = {pdf: [lo, hi]}
    return row


def prior_mapping(spec) -> list[dict]:
    """One row per parameter of ``spec`` (see the module docstring): ``ours``, ``our_prior``,
    ``bagpipes``, ``bagpipes_prior`` (``{kind: [low, high]}`` or ``{"fixed": value}``),
    ``exact`` and, where useful, ``note``. Raises ``ValueError`` for what has no exact map."""
    if spec.mean_sfh_type != "dpl" or spec.norm_param != "sfh_log_mass_formed":
        raise ValueError("the bagpipes posterior comparison needs the dpl SFH normalised by sfh_log_mass_formed "
                         f"(spec: {spec.mean_sfh_type}, normalisation {spec.norm_param})")
    return [_prior_row(name, cfg) for name, cfg in spec.to_config()["params"].items()]


def fit_instructions(spec, t_bc_gyr: float = T_BC_GYR) -> dict:
    """bagpipes ``fit_instructions`` with the priors of ``spec`` (:func:`prior_mapping`)."""
    out = {"t_bc": float(t_bc_gyr), "dblplaw": {}, "dust": {"type": "CF00"}}
    for row in prior_mapping(spec):
        (kind, val), = row["bagpipes_prior"].items()
        comp, _, key = row["bagpipes"].rpartition(":")
        target = out[comp] if comp else out
        if kind == "fixed":
            target[key] = val
            continue
        if not comp:
            raise ValueError(f"{row['ours']}: must be fixed for the bagpipes comparison")
        target[key] = tuple(val)
        if kind != "uniform":
            target[f"{key}_prior"] = kind
    return out


def bagpipes_to_ours(samples: dict) -> tuple[dict, dict]:
    """bagpipes posterior draws (``fit.posterior.samples``) -> ``(samples, derived)`` in our names.

    Fitted parameters map back through the inverse maps of the module docstring
    (``dust:eta`` -> ``dust_tau_bc = (eta − 1) τ_diff``); derived quantities through
    :data:`DERIVED`. Other bagpipes quantities are left out.
    """
    inverse = {key: (ours, inv) for ours, (key, _, inv, _) in PARAMS.items()}
    ours = {inverse[k][0]: np.asarray(inverse[k][1](np.asarray(v, float))) for k, v in samples.items() if k in inverse}
    if "dust:eta" in samples and "dust_tau_diff" in ours:
        ours["dust_tau_bc"] = (np.asarray(samples["dust:eta"], float) - 1.0) * ours["dust_tau_diff"]
    derived = {ours_name: np.asarray(samples[k], float) for k, ours_name in DERIVED.items() if k in samples}
    return ours, derived


def run_bagpipes_fit(model, flux, flux_err, instructions: dict, n_live: int = 400, n_eff: float = 0.0,
                     n_posterior: int = 500, threads: int = 1, seed: int = 0, log=None) -> dict:
    """bagpipes + nautilus on ``flux``, ``flux_err`` (maggies, the model's bands) with ``instructions``.

    Runs in a temporary directory with the BLAS/OpenMP pools limited to ``threads``
    (``threadpoolctl``); nautilus runs with ``pool=1`` (bagpipes' default: no extra
    processes). ``seed`` seeds NumPy's global generator (bagpipes' choice of posterior
    draws); nautilus' own generator is not seeded by bagpipes.

    Returns
    -------
    dict with ``record`` (JSON-ready: ``import_s``, ``setup_s``, ``fit_s`` (the
    ``fit()`` call: sampling, bagpipes' files and its posterior object), ``n_likelihood_calls``,
    ``n_live``, ``n_eff`` (nautilus), ``log_z``, ``ess_per_s``, ``version``, ``output_tail``),
    ``samples`` and ``derived`` ({name: (n_posterior,) draws}, our names)
    """
    from threadpoolctl import threadpool_limits

    log = log or (lambda *a: None)
    t0 = time.perf_counter()
    bagpipes, import_output = import_bagpipes()
    import_s = time.perf_counter() - t0
    if float(bagpipes.config.sfr_timescale) != 1e8:
        raise ValueError(f"bagpipes' sfr_timescale is {bagpipes.config.sfr_timescale} yr, not the 1e8 of sfr_100myr")
    tmp = Path(tempfile.mkdtemp(prefix="sedjax-bagpipes-fit-")).resolve()
    flux, err = np.asarray(flux, float), np.asarray(flux_err, float)
    phot = np.column_stack([flux * MAGGIES_TO_MUJY, err * MAGGIES_TO_MUJY])
    buf = io.StringIO()
    calls = [0]
    previous_dir = bagpipes.utils.working_dir
    try:
        filt_list = write_bagpipes_filters(model, tmp / "filters")
        # bagpipes writes pipes/ below utils.working_dir (set at import) and reads it relative to the cwd
        bagpipes.utils.working_dir = str(tmp)
        with contextlib.chdir(tmp), threadpool_limits(limits=int(threads)), contextlib.redirect_stdout(buf):
            np.random.seed(seed)
            t0 = time.perf_counter()
            galaxy = bagpipes.galaxy("sedjax_bench", load_data=lambda _id: phot, spectrum_exists=False,
                                     filt_list=filt_list, phot_units="mujy")
            fit = bagpipes.fit(galaxy, instructions, run="bench", n_posterior=int(n_posterior))
            lnlike = fit.fitted_model.lnlike

            def counted(x, *args):
                calls[0] += 1
                return lnlike(x, *args)

            fit.fitted_model.lnlike = counted
            setup_s = time.perf_counter() - t0
            log(f"bagpipes + nautilus: n_live {n_live}, {fit.fitted_model.ndim} parameters {fit.fitted_model.params}")
            t0 = time.perf_counter()
            fit.fit(sampler="nautilus", n_live=int(n_live), n_eff=n_eff, verbose=False, pool=1)
            fit_s = time.perf_counter() - t0
        lnz_err = float(fit.results["lnz_err"])
        samples, derived = bagpipes_to_ours(fit.posterior.samples)
        params = list(fit.fitted_model.params)
    finally:
        bagpipes.utils.working_dir = previous_dir
        shutil.rmtree(tmp, ignore_errors=True)
    neff = 1.0 / lnz_err**2 if lnz_err > 0 else None
    record = {
        "sampler": "nautilus",
        "version": getattr(bagpipes, "__version__", None),
        "nautilus_version": package_version("nautilus-sampler"),
        "fit_instructions": instructions,
        "fitted_params": params,
        "n_live": int(n_live),
        "n_eff_target": n_eff,
        "n_posterior": int(n_posterior),
        "threads": int(threads),
        "import_s": import_s,
        "setup_s": setup_s,
        "fit_s": fit_s,
        "n_likelihood_calls": calls[0],
        "ms_per_likelihood_call": 1e3 * fit_s / calls[0] if calls[0] else None,
        "n_eff": neff,
        "ess_per_s": neff / fit_s if neff and fit_s > 0 else None,
        "log_z": float(fit.results["lnz"]),
        "log_z_err": lnz_err,
        "import_output": import_output[-1000:],
        "output_tail": buf.getvalue()[-2000:],
    }
    log(f"bagpipes + nautilus: {fit_s:.1f} s, {calls[0]} likelihood calls, n_eff {neff:.0f}" if neff else
        f"bagpipes + nautilus: {fit_s:.1f} s, {calls[0]} likelihood calls")
    return {"record": record, "samples": samples, "derived": derived}
