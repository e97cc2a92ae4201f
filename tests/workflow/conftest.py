"""Fixtures of the workflow tests (helpers: workflow_config.py)."""

import pytest
import yaml
from workflow_config import REPO, SCHEMA, validated


@pytest.fixture(scope="session")
def schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


@pytest.fixture(scope="session")
def repo_config() -> dict:
    """config/config.yaml, validated."""
    return validated(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
