"""Physical sanity checks of SSP grids (issue 16): the real BC03 grid passes, valid-HDF5-but-wrong grids fail."""

import numpy as np
import pytest

from sedjax.physics.constants import C_AA_S
from sedjax.ssp.grid import SSPFormatError, validate_ssp, write_ssp
from sedjax.ssp.sanity import physical_problems


def test_real_bc03_grid_passes(ssp):
    assert physical_problems(ssp) == []


def _wrong(ssp, kind):
    wave = ssp.ssp_wave
    if kind == "l_lambda_as_l_nu":
        return ssp._replace(ssp_flux=ssp.ssp_flux * C_AA_S / wave**2)
    if kind == "uv_slope":  # F_λ made 2 steeper in λ: UV slope β ≈ −4.5, L_bol still plausible
        return ssp._replace(ssp_flux=ssp.ssp_flux * (wave / 5500.0) ** -2)
    if kind == "log_z_over_zsun":
        return ssp._replace(ssp_lgmet=ssp.ssp_lgmet - np.log10(ssp.zsun))
    if kind == "zsun_low":
        return ssp._replace(zsun=0.002)
    if kind == "zsun_high":
        return ssp._replace(zsun=0.5)
    raise ValueError(kind)


@pytest.mark.parametrize("kind, words", [
    ("l_lambda_as_l_nu", ["ssp_flux", "L_bol", "L_λ"]),
    ("uv_slope", ["ssp_flux", "UV slope", "L_λ stored where L_ν"]),
    ("log_z_over_zsun", ["ssp_lgmet", "log10(Z/Z☉) stored"]),
    ("zsun_low", ["zsun = 0.002", "0.02 for BC03"]),
    ("zsun_high", ["zsun", "0.5"]),
])
def test_wrong_grids_fail_naming_what_looks_wrong(ssp, tmp_path, kind, words):
    bad = _wrong(ssp, kind)
    with pytest.raises(SSPFormatError) as e:
        validate_ssp(bad, "bad.h5")
    assert all(w in str(e.value) for w in words), str(e.value)
    dest = tmp_path / "bad.h5"
    with pytest.raises(SSPFormatError):
        write_ssp(dest, bad)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left
