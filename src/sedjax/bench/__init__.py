"""Benchmarks (numbers go to results/benchmarks/; nothing here asserts on time).

``timing`` (medians, compile times), ``record`` (provenance of a measurement), ``forward``
(jit/grad/vmap of the forward model), ``cache`` + ``cache_child`` (persistent compilation
cache, in subprocesses), ``peer`` (bagpipes on the same physics), ``sampler`` (cold/warm
backends), ``batch`` (batched vs looped fits), ``summary`` (headline ratios, JAX-free),
``job`` (a benchmark job's set-up), ``run`` (the rules' entry points), ``redshift``
(per-galaxy fit cost at varying vs fixed redshift), ``posterior`` + ``bagpipes_fit`` (time to a
posterior per backend against bagpipes + nautilus with matched priors).
"""

# the forward-model benchmarks, one job each of rule bench (workflow/rules/common.smk reads this)
BENCHMARK_NAMES = ("jit", "grad", "vmap", "cache", "peer")
