"""Per-job JAX set-up: thread count from the allocation, cache directory keyed by host kind."""

import json
import os
import subprocess
import sys

from sedjax.io.runtime import allocated_cpus, cache_dir_for_host


def test_allocated_cpus_honours_slurm(monkeypatch):
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")
    assert allocated_cpus() == 3
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    monkeypatch.delenv("SNAKEMAKE_THREADS", raising=False)
    assert allocated_cpus() == len(os.sched_getaffinity(0))


def test_cache_dirs_differ_by_platform(tmp_path):
    cpu = cache_dir_for_host(tmp_path, "cpu")
    gpu = cache_dir_for_host(tmp_path, "gpu")
    assert cpu != gpu and cpu.parent == gpu.parent == tmp_path
    assert cache_dir_for_host(tmp_path, "cpu") == cpu  # stable for one host


def test_configure_jax_in_a_fresh_process(tmp_path):
    code = (
        "import json; from sedjax.io.runtime import configure_jax; "
        f"info = configure_jax('cpu', threads=1, cache_root={str(tmp_path)!r}); "
        "import jax, jax.numpy as jnp; jax.jit(lambda x: x * 2)(jnp.ones(3)).block_until_ready(); "
        "info['platform'] = jax.devices()[0].platform; "
        "info['cache_cfg'] = jax.config.jax_compilation_cache_dir; print(json.dumps(info))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["platform"] == "cpu" and info["threads"] == 1
    assert info["cache_cfg"] == info["compilation_cache"]
    assert os.path.isdir(info["compilation_cache"])


def _run(code, timeout=180):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


_COUNT_WORKERS = (
    "names = [open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task')]; "
    "n = names.count('tf_XLAEigen'); "
)


def test_threads_size_the_xla_cpu_pool_and_affinity_is_restored():
    allowed = sorted(os.sched_getaffinity(0))
    code = (
        "import os, json; from sedjax.io.runtime import configure_jax; "
        "info = configure_jax('cpu', threads=1, cache_root=None); "
        + _COUNT_WORKERS
        + "print(json.dumps({'workers': n, 'affinity': sorted(os.sched_getaffinity(0)), 'threads': info['threads']}))"
    )
    info = _run(code)
    assert info["threads"] == 1
    assert info["workers"] == 1  # XLA's intra-op pool has one thread ...
    assert info["affinity"] == allowed  # ... while the process may still use every allowed CPU


def test_batched_lapack_in_a_loop_completes_with_one_worker():
    """Regression for the jaxlib 0.10 hang: concurrent batched QR and LU inside a loop.

    With a pool of two or more workers this program deadlocks within seconds on a 2-core
    machine (both workers wait in ParallelBatchMap); with the one-worker pool that the fit
    jobs use it must finish.
    """
    code = (
        "import json; from sedjax.io.runtime import configure_jax; configure_jax('cpu', threads=1, cache_root=None); "
        "import jax, jax.numpy as jnp\n"
        "def body(i, c):\n"
        "    a, b = c\n"
        "    q, _ = jnp.linalg.qr(a)\n"
        "    _, ld = jnp.linalg.slogdet(b)\n"
        "    return (a + 1e-3 * q, b + 1e-3 * ld[..., None, None])\n"
        "f = jax.jit(lambda a, b: jax.lax.fori_loop(0, 100, body, (a, b)))\n"
        "k = jax.random.PRNGKey(0)\n"
        "a = jax.random.normal(k, (2000, 8, 8)); b = a + 5 * jnp.eye(8)\n"
        "for _ in range(3):\n"
        "    out = jax.block_until_ready(f(a, b))\n"
        "print(json.dumps({'finite': bool(jnp.all(jnp.isfinite(out[0])))}))\n"
    )
    assert _run(code, timeout=120)["finite"]
