"""sedjax.bench.job: a benchmark job's start (JAX set-up in a fresh process; the GPU-less skip)."""

import json
import subprocess
import sys
import textwrap

from sedjax.bench.job import benchmark_dtype


def test_benchmark_dtype():
    assert benchmark_dtype("cpu", {"gpu_dtype": "float32"}) == "float64"
    assert benchmark_dtype("gpu", {"gpu_dtype": "float32"}) == "float32"
    assert benchmark_dtype("gpu", {}) == "float64"


def test_gpu_job_without_a_gpu_writes_a_skip_record(tmp_path):
    """In a fresh process (JAX set-up is once per process): gpu asked, none visible -> skip record."""
    out = tmp_path / "jit.json"
    code = textwrap.dedent(f"""
        import json, sys
        from sedjax.bench.job import start_benchmark_job
        from sedjax.io.runtime import gpu_available
        started = start_benchmark_job("gpu", 1, {{"gpu_dtype": "float32"}}, {str(tmp_path / "jit.log")!r}, "jit",
                                      {str(out)!r})
        print("STARTED", json.dumps(None if started is None else started[2]), gpu_available())
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("STARTED")][-1]
    if line.endswith("True"):  # a GPU is visible here: the job runs, in the configured precision
        assert line == 'STARTED "float32" True'
        return
    assert line == "STARTED null False"
    rec = json.loads(out.read_text())
    assert rec["skipped"] is True and rec["benchmark"] == "jit" and rec["device"] == "gpu"
    assert "no GPU visible to JAX" in rec["reason"]
    assert rec["provenance"]["versions"]["jax"]
    assert (tmp_path / "jit.log").exists()
