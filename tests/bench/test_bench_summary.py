"""sedjax.bench.summary: headline ratios and their Markdown table, without JAX."""

import json
import subprocess
import sys

import pytest

from sedjax.bench.summary import SUMMARY_ROWS, device_summary, summarize, summary_markdown, write_summary
from sedjax.io.jsonio import write_json

RESULTS = {
    "jit": {"modes": {"exact": {"ratios": {"numpy_over_jit": 3.0, "op_by_op_over_jit": 2.0}}}},
    "vmap": {"vmap_per_galaxy_s_at_largest": 2e-6, "largest_batch": 10},
    "peer": {"ratios": {"bagpipes_over_fast": 50.0}, "bagpipes_error": None},
    "cache": {"skipped": True, "reason": "no GPU visible to JAX on x"},
}


def test_summary_table():
    s = summarize(RESULTS)
    assert s["headline"]["jit_vs_numpy_exact"] == 3.0
    assert s["headline"]["vmap_per_galaxy_us_at_largest"] == pytest.approx(2.0)
    assert s["headline"]["grad_over_forward_fast"] is None
    assert s["skipped"] == {"cache": "no GPU visible to JAX on x"}
    md = summary_markdown(s, "cpu")
    assert "| bagpipes `update()` / ours fast (jit) | 50× |" in md
    assert "n/a" in md and "Skipped" in md
    json.dumps(s, allow_nan=False)
    assert {key for key, _, _ in SUMMARY_ROWS} <= set(s["headline"])


def test_device_summary_and_files(tmp_path):
    paths = []
    for name, rec in RESULTS.items():
        path = tmp_path / "in" / f"{name}.json"
        write_json(path, {"benchmark": name, **rec, "provenance": {"device_kind": "cpu"}})
        paths.append(str(path))
    s = device_summary(paths, "cpu")
    assert s["device"] == "cpu" and s["inputs"] == paths
    assert s["provenance"] == {"device_kind": "cpu"}  # from the first benchmark that ran
    assert s["headline"]["jit_vs_numpy_exact"] == 3.0
    write_summary(s, tmp_path / "summary.json", tmp_path / "summary.md")
    assert json.loads((tmp_path / "summary.json").read_text())["device"] == "cpu"
    assert (tmp_path / "summary.md").read_text() == summary_markdown(s, "cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "summary.json", "summary.md"]


def test_summary_imports_no_jax():
    """The report's figure job reads SUMMARY_ROWS: importing the module must not load JAX."""
    code = "import sys, sedjax.bench.summary; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
