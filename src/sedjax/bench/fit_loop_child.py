"""Child process of :func:`sedjax.bench.fit_loop.fresh_process`: a user's first ``fit()`` in a new process.

Run as ``python -m sedjax.bench.fit_loop_child '<json args>'`` with ``args`` = ``model``
(a model config section), ``ssp_path``, ``backend``, ``options``, ``flux``, ``flux_err``
(maggies), ``seed``, ``mode``. It does what a user's script does — ``import sedjax`` (the
library's persistent compilation cache on: the parent sets
:data:`sedjax.io.runtime.CACHE_ENV`), build the model, call :func:`sedjax.fitting.fit` once
— and prints one line ``RESULT {json}``: ``import_s``, ``model_build_s``, ``first_fit_s``
(the ``fit()`` call alone), ``compile_s`` / ``run_s`` (the result's), ``status``, the
cache directory used and JAX's persistent-cache events during the fit (``cache_hits``,
``cache_misses``: programs loaded from it, and compiled because they were not in it).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv=None) -> dict:
    t0 = time.perf_counter()
    args = json.loads((argv or sys.argv[1:])[0])
    import sedjax  # noqa: F401 (float64 and the library's persistent compilation cache, as for a user)

    import jax
    import jax.monitoring

    from sedjax.fitting import fit

    events = {"cache_hits": 0, "cache_misses": 0}

    def on_event(name, **_kw):
        short = name.rpartition("/")[2]
        if short in events:
            events[short] += 1

    from sedjax.model.from_config import model_from_config

    t1 = time.perf_counter()
    model = model_from_config(args["model"], args["ssp_path"])
    t2 = time.perf_counter()
    jax.monitoring.register_event_listener(on_event)
    res = fit(model, {"flux": args["flux"], "flux_err": args["flux_err"]}, args["backend"],
              jax.random.PRNGKey(int(args["seed"])), mode=args["mode"], options=args["options"])
    t3 = time.perf_counter()
    out = {"import_s": t1 - t0, "model_build_s": t2 - t1, "first_fit_s": t3 - t2,
           "compile_s": float(res.timings["compile_s"]), "run_s": float(res.timings["run_s"]),
           "status": res.status, "cache_dir": jax.config.jax_compilation_cache_dir, **events}
    print("RESULT " + json.dumps(out), flush=True)
    return out


if __name__ == "__main__":
    main()
