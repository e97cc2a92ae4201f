"""`snakemake --lint` stays clean (its mixed def + rule check is a text search: common.smk
holds every helper and no rule, and its comments must not read like a rule header)."""

import subprocess
import sys

import pytest

from workflow_config import REPO


@pytest.mark.timeout(300)
def test_snakemake_lint_is_clean():
    r = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True, text=True,
                       timeout=240)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Congratulations, your workflow is in a good condition!" in out, out[-4000:]
