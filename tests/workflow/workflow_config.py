"""Helpers of the workflow tests: the config validated as the Snakefile does it, and common.smk's functions."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "config" / "schema.yaml"
COMMON_SMK = REPO / "workflow" / "rules" / "common.smk"


def validated(cfg: dict) -> dict:
    """``cfg`` validated as the Snakefile does (Snakemake's validate, defaults filled in place)."""
    from snakemake.utils import validate

    cfg = copy.deepcopy(cfg)
    validate(cfg, str(SCHEMA))
    return cfg


def load_common_smk(config: dict) -> dict:
    """The namespace of workflow/rules/common.smk (plain Python: no rules) run on ``config``."""
    from snakemake.io import expand

    namespace = {"config": config, "workflow": SimpleNamespace(basedir=str(REPO)), "expand": expand}
    exec(compile(COMMON_SMK.read_text(), str(COMMON_SMK), "exec"), namespace)
    return namespace
