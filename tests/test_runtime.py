"""Per-job JAX set-up: thread count from the allocation, cache directory keyed by host kind."""

import json
import os
import subprocess
import sys

from sedjax.runtime import allocated_cpus, cache_dir_for_host


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
        "import json; from sedjax.runtime import configure_jax; "
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
