"""sedjax.bench.record: provenance block, cache state, error records; the records' JSON."""

import json

import jax.numpy as jnp
import numpy as np

from sedjax.bench.record import cache_state, error_record, provenance
from sedjax.io.jsonio import write_json


def test_write_json_is_atomic_and_strict(tmp_path, checks):
    obj = {"a": np.float64(1.5), "b": jnp.arange(3), "c": float("nan"), "d": np.inf, "e": (1, np.int32(2))}
    out = checks.roundtrip(tmp_path, obj, "x")
    assert out == {"a": 1.5, "b": [0, 1, 2], "c": None, "d": None, "e": [1, 2]}
    write_json(tmp_path / "out" / "x.json", {"a": 2})  # overwrite in place
    assert json.loads((tmp_path / "out" / "x.json").read_text()) == {"a": 2}


def test_provenance_without_and_with_a_model(default_model, checks):
    p = provenance()
    checks.provenance(p)
    assert "model" not in p
    p = provenance(default_model, cache={"state": "cold"}, extra={"runtime": {"threads": 1}})
    checks.provenance(p)
    assert p["model"]["bands"] == default_model.bands
    assert p["model"]["n_met"] >= 1 and p["model"]["n_age"] >= 1 and p["model"]["n_wave_native"] >= 1
    assert p["compilation_cache"] == {"state": "cold"} and p["runtime"] == {"threads": 1}
    assert cache_state()["state"] in ("disabled", "cold", "warm")


def test_error_record_inside_except():
    try:
        raise KeyError("nope")
    except KeyError as exc:
        r = error_record(exc)
    assert r["type"] == "KeyError" and "nope" in r["message"]
    assert "test_error_record_inside_except" in r["traceback"]
    json.dumps(r)
