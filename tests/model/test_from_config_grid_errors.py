"""A corrupt or truncated grid reaches load_ssp's checks before anything else opens it (issue 16)."""

import pytest

from sedjax.model.from_config import model_from_config
from sedjax.ssp.grid import SSPFormatError

MODEL_CFG = {
    "sfh": "dpl",
    "bands": ["sdss_r"],
    "params": {
        "sfh_dpl_log_peak_sfr": {"uniform": [-1, 2.5]},
        "sfh_dpl_tau_gyr": 3.0,
        "sfh_dpl_alpha": 3.0,
        "sfh_dpl_beta": 3.0,
        "met_logzsol": 0.0,
        "redshift": 0.1,
    },
}


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all\n" * 10, b"\x89HDF\r\n\x1a\n" + b"\0" * 40])
def test_corrupt_grid_names_the_file(tmp_path, content):
    path = tmp_path / "ssp_broken.h5"
    path.write_bytes(content)
    with pytest.raises(SSPFormatError) as err:
        model_from_config(MODEL_CFG, path)
    msg = str(err.value)
    assert str(path) in msg
    assert "regenerate" in msg or "re-download" in msg


def test_missing_grid_names_the_file(tmp_path):
    path = tmp_path / "absent.h5"
    with pytest.raises(SSPFormatError, match="absent.h5"):
        model_from_config(MODEL_CFG, path)
