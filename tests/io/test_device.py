"""Device probe record (sedjax.io.device): the fields rule device_probe writes."""

import json
import subprocess
import sys

from sedjax.io.device import ENV_VARS, job_environment, write_device_record

BASE_KEYS = {"device", *ENV_VARS, "hostname", "python", "threads", "configure_jax", "jax_version", "jax_backend",
             "jax_devices", "jax_platforms_seen", "gpu_present", "gpu_devices", "check_sum", "seconds"}
ERROR_KEYS = {"configure_jax_error", "jax_error", "gpu_error", "check_error", "note"}


def test_job_environment_records_scheduler_variables(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    env = job_environment("cpu", 3)
    assert env["device"] == "cpu" and env["threads"] == 3
    assert env["SLURM_JOB_ID"] == "4242" and env["CUDA_VISIBLE_DEVICES"] is None
    assert set(env) == {"device", *ENV_VARS, "hostname", "python", "threads"}


def probe_in_fresh_process(device: str, tmp_path) -> dict:
    """probe_device configures JAX, so it runs in a process of its own; read back its JSON."""
    out = tmp_path / f"{device}.json"
    code = ("from sedjax.io.device import probe_device, write_device_record; "
            f"write_device_record({str(out)!r}, probe_device({device!r}, 1))")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300)
    text = out.read_text()
    assert text.endswith("\n")
    return json.loads(text)


def test_probe_cpu(tmp_path):
    rec = probe_in_fresh_process("cpu", tmp_path)
    assert BASE_KEYS <= set(rec) <= BASE_KEYS | ERROR_KEYS, set(rec) ^ BASE_KEYS
    assert rec["device"] == "cpu" and rec["threads"] == 1
    assert rec["configure_jax"]["device"] == "cpu" and rec["configure_jax"]["threads"] == 1
    assert rec["jax_backend"] == "cpu" and rec["jax_platforms_seen"] == ["cpu"]
    assert rec["gpu_present"] is False and rec["gpu_devices"] == [] and "gpu_error" in rec
    assert rec["check_sum"] == 6.0 and rec["seconds"] >= 0
    assert "note" not in rec


def test_probe_gpu_request_never_fails(tmp_path):
    rec = probe_in_fresh_process("gpu", tmp_path)
    assert BASE_KEYS <= set(rec) <= BASE_KEYS | ERROR_KEYS
    if rec["gpu_present"]:
        assert rec["gpu_devices"] and "note" not in rec
    else:
        assert rec["note"] == "no GPU visible" and rec["gpu_devices"] == []
    assert rec["check_sum"] == 6.0  # falls back to the CPU when no GPU is visible


def test_write_device_record_sorts_keys(tmp_path):
    path = tmp_path / "sub" / "rec.json"
    path.parent.mkdir()
    write_device_record(path, {"b": 1, "a": {"z": None, "c": [1]}})
    assert path.read_text() == '{\n  "a": {\n    "c": [\n      1\n    ],\n    "z": null\n  },\n  "b": 1\n}\n'
