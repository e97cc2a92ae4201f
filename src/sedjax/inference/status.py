"""The fit-status policy: a backend's raw output -> ``("ok" | "failed", reason)``.

Checks common to every backend (finite samples, finite log density) are made here; each
backend's own checks live next to it (``status_checks`` in its module, listed in
:data:`sedjax.inference.backends.registry.BACKENDS`).
"""

from __future__ import annotations

from typing import Mapping

from sedjax.inference.backends.registry import BACKENDS
from sedjax.inference.diagnostics import RHAT_MAX, all_finite, samples_finite

CHI2_PVALUE_MIN = 1e-6  # a smaller chi2 p-value is a warning (see sedjax.fitting.goodness)


def assess_status(
    backend: str,
    diagnostics: Mapping,
    samples,
    *,
    rhat_max: float = RHAT_MAX,
    max_divergence_frac: float | None = None,
) -> tuple[str, str]:
    """Decide whether one fit is usable.

    Parameters
    ----------
    backend : registry name ("map", "laplace", "pathfinder", "nuts", "vi", "ns").
    diagnostics : the backend's diagnostic arrays for ONE galaxy (the raw output
      dict minus ``samples`` is fine; extra keys are ignored).
    samples : ``(n, d)`` array or ``{name: (n,)}`` dict of posterior draws.
    rhat_max : NUTS fails if ``max(rhat) > rhat_max`` (default 1.1).
    max_divergence_frac : if given, NUTS fails when the fraction of divergent
      transitions exceeds it; otherwise divergences only produce a warning.

    Returns
    -------
    (status, reason): status is "ok" or "failed"; reason lists every failed check
    ("; "-separated), or warnings for an ok fit, or "" when clean.
    """
    d = diagnostics
    fails: list[str] = []
    warns: list[str] = []

    if not samples_finite(samples):
        fails.append("non-finite samples")
    if "logdensity" in d and not all_finite(d["logdensity"]):
        fails.append("non-finite log density")
    if "chi2_pvalue" in d and float(d["chi2_pvalue"]) < CHI2_PVALUE_MIN:  # sedjax.fitting.goodness
        warns.append(f"implausible fit: best chi2 {float(d['chi2_best']):.3g} for {int(d['n_usable_bands'])} bands "
                     f"(p = {float(d['chi2_pvalue']):.2g} < {CHI2_PVALUE_MIN:g}): check the fluxes, errors and sentinels")

    entry = BACKENDS.get(backend)
    if entry is not None:
        f, w = entry.status_checks(d, rhat_max=rhat_max, max_divergence_frac=max_divergence_frac)
        fails.extend(f)
        warns.extend(w)

    if fails:
        return "failed", "; ".join(fails)
    return "ok", "; ".join(warns)


def fit_status(backend: str, diagnostics: Mapping, u_samples, samples=None, **limits) -> tuple[str, str]:
    """Status of one fit from its raw output, then its physical draws.

    :func:`assess_status` on the diagnostics and the unconstrained draws ``u_samples``
    (``limits``: ``rhat_max``, ``max_divergence_frac``); when that is ok and physical
    ``samples`` are given, a fit whose physical draws are not finite fails (physical
    samples can only fail where the u samples did not). Used by
    :meth:`sedjax.inference.FitResult.from_raw` and the batched fits.
    """
    status, reason = assess_status(backend, diagnostics, u_samples, **limits)
    if samples is not None and status == "ok":
        status2, reason2 = assess_status(backend, {}, samples)
        if status2 == "failed":
            return status2, reason2
    return status, reason
