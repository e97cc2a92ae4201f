"""Figure and report jobs load no JAX: every sedjax.plotting module imports without it.

Runs in a fresh interpreter (the test session itself has JAX loaded by tests/conftest.py).
"""

import json
import subprocess
import sys

CODE = r"""
import importlib, json, pkgutil, sys
import sedjax.plotting
names = ["sedjax.plotting"] + [m.name for m in pkgutil.walk_packages(sedjax.plotting.__path__, "sedjax.plotting.")]
for name in names:
    importlib.import_module(name)
from sedjax.plotting.report import build_sections, summary_preamble
summary = {"headline": {"jit_vs_numpy_fast": 12.0}, "skipped": {}, "provenance": {}}
build_sections("results/summary.md", bench_summaries={"cpu": summary})
print(json.dumps({"modules": names, "jax": sorted(m for m in sys.modules if m == "jax" or m.startswith("jax."))}))
"""


def test_plotting_imports_no_jax():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"sedjax.plotting.report", "sedjax.plotting.style", "sedjax.plotting.posterior"} <= set(result["modules"])
    assert result["jax"] == [], f"JAX loaded by sedjax.plotting: {result['jax'][:5]}"
