"""Child process of :func:`sedjax.bench.cache.bench_cache`: time to first result in a fresh process.

Run as ``python -m sedjax.bench.cache_child '<json args>'`` with ``args`` = ``device``,
``threads``, ``cache_dir`` (the persistent compilation cache to use), ``model`` (the
``model`` config section), ``ssp_path``, ``mode``, ``dtype``. It configures JAX (every
compilation cached in ``cache_dir``), builds the model, computes one jitted
``predict_photometry`` and one jitted gradient of the benchmark log-likelihood
(:func:`sedjax.bench.forward.loglik_fn`), and prints one line
``RESULT {json}`` with the phase times in seconds (see :func:`first_result_times`).

JAX and the model are imported inside :func:`main`, after :func:`configure_jax`, so
``import_s`` measures them.
"""

from __future__ import annotations

import json
import sys
import time


def first_result_times(args: dict, t_start: float) -> dict:
    """Configure JAX, build the model, time the first prediction and gradient.

    Returns ``import_s``, ``model_build_s``, ``first_predict_s``, ``first_grad_s``,
    ``first_result_s`` (model built -> gradient ready), ``in_process_total_s`` (all
    measured from ``t_start``) and ``grad_finite``.
    """
    from sedjax.io.runtime import configure_jax

    configure_jax(args["device"], threads=args["threads"], cache_root=None)
    import jax

    jax.config.update("jax_compilation_cache_dir", args["cache_dir"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    import jax.numpy as jnp

    from sedjax.bench.forward import loglik_fn
    from sedjax.model.from_config import model_from_config

    t_import = time.perf_counter()
    model = model_from_config(args["model"], args["ssp_path"], dtype=args["dtype"])
    t_model = time.perf_counter()
    p = model.spec.sample(jax.random.PRNGKey(0))
    mode = args["mode"]
    f = jax.jit(lambda q: model.predict_photometry(q, mode=mode))
    y = jax.block_until_ready(f(p))
    t_pred = time.perf_counter()
    obs = y
    err = jnp.abs(y) * 0.1 + 1e-30
    ll = loglik_fn(model, mode)

    def loglik(u):
        return ll(u, obs, err)

    u = model.spec.to_unconstrained(p)
    g = jax.block_until_ready(jax.jit(jax.grad(loglik))(u))
    t_grad = time.perf_counter()
    return {
        "import_s": t_import - t_start,
        "model_build_s": t_model - t_import,
        "first_predict_s": t_pred - t_model,
        "first_grad_s": t_grad - t_pred,
        "first_result_s": t_grad - t_model,
        "in_process_total_s": t_grad - t_start,
        "grad_finite": bool(jnp.all(jnp.isfinite(g))),
    }


def main(argv=None) -> None:
    """Parse the JSON argument and print ``RESULT {json}``."""
    t_start = time.perf_counter()
    argv = sys.argv[1:] if argv is None else argv
    args = json.loads(argv[0])
    print("RESULT " + json.dumps(first_result_times(args, t_start)))


if __name__ == "__main__":
    main()
