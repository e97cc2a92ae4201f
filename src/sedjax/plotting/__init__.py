"""Figures of the sedjax workflow: one small module per figure family.

Every ``plot_*`` function takes loaded results (dicts, DataFrames, FitResults) and a
PNG path, writes the PNG (and, with ``pdf=True``, a PDF beside it) and returns the paths
written. No function reads workflow files or computes model quantities: scripts load the
results, :mod:`sedjax.analysis.ppc` / :mod:`sedjax.analysis.gradfield` compute.

=====================  =====================================================
module                 figures
=====================  =====================================================
``benchmarks``         :func:`plot_jit_speedup`, :func:`plot_vmap_throughput`,
                       :func:`plot_sampler_compile`
``gradfield``          :func:`plot_grad_field`
``posterior``          :func:`plot_corner`, :func:`plot_corner_all`, :func:`plot_sed`
``posterior_bench``    :func:`plot_posterior_time`, :func:`plot_posterior_overlay` (vs bagpipes)
``recovery``           :func:`plot_recovery` (+ :func:`recovery_stats`)
``calibration``        :func:`plot_calibration`, :func:`plot_backend_comparison`
``real_data``          :func:`~sedjax.plotting.real_data.plot_catalogue` (file catalogues)
``report``             the summary tables (Markdown + HTML) of rule ``report``
``style``              labels with units, backend colours, saving
=====================  =====================================================
"""

from sedjax.plotting.benchmarks import plot_jit_speedup, plot_sampler_compile, plot_vmap_throughput
from sedjax.plotting.calibration import backend_metrics, plot_backend_comparison, plot_calibration
from sedjax.plotting.gradfield import plot_grad_field
from sedjax.plotting.posterior import plot_corner, plot_corner_all, plot_sed
from sedjax.plotting.posterior_bench import plot_posterior_overlay, plot_posterior_time
from sedjax.plotting.recovery import plot_recovery, recovery_stats

__all__ = [
    "backend_metrics",
    "plot_backend_comparison",
    "plot_calibration",
    "plot_corner",
    "plot_corner_all",
    "plot_grad_field",
    "plot_jit_speedup",
    "plot_posterior_overlay",
    "plot_posterior_time",
    "plot_recovery",
    "plot_sampler_compile",
    "plot_sed",
    "plot_vmap_throughput",
    "recovery_stats",
]
