"""Shared checks of the benchmark tests: structure of the records and the JSON, never timings."""

import json
import math
import os
from types import SimpleNamespace

import pytest
import yaml

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "config", "config.yaml")
PROVENANCE_KEYS = (
    "date_utc", "hostname", "cpu_model", "n_cpu", "platform", "device_kind", "device_name",
    "versions", "float_precision", "git_commit", "compilation_cache", "jax_enable_x64",
)


def is_time(x):
    return isinstance(x, float) and math.isfinite(x) and x > 0


def check_stats(s, n):
    assert set(s) >= {"median_s", "iqr_s", "n"}
    assert is_time(s["median_s"])
    assert s["iqr_s"] >= 0 and math.isfinite(s["iqr_s"])
    assert s["n"] == n


def check_provenance(p):
    for k in PROVENANCE_KEYS:
        assert k in p, k
    assert p["n_cpu"] >= 1
    assert p["float_precision"] in ("float32", "float64")
    for pkg in ("jax", "jaxlib", "blackjax"):
        assert p["versions"][pkg]
    assert p["compilation_cache"]["state"] in ("disabled", "cold", "warm") or "cold" in p["compilation_cache"]["state"]


def roundtrip(tmp_path, result, name):
    """Write ``result`` with write_json and read it back strictly (no NaN/Infinity)."""
    from sedjax.io.jsonio import write_json

    path = tmp_path / "out" / f"{name}.json"
    write_json(path, result)
    assert not [f for f in path.parent.iterdir() if f.name.endswith(".tmp")]
    with open(path) as fh:
        return json.load(fh, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


@pytest.fixture(scope="session")
def checks():
    """The checks above, for the test modules of this directory."""
    return SimpleNamespace(is_time=is_time, stats=check_stats, provenance=check_provenance, roundtrip=roundtrip)


@pytest.fixture(scope="session")
def model_cfg():
    """The ``model`` section of the default config."""
    with open(CONFIG) as fh:
        return yaml.safe_load(fh)["model"]


@pytest.fixture(scope="session")
def params(default_model):
    from sedjax.bench.forward import benchmark_params

    return benchmark_params(default_model, seed=0)
