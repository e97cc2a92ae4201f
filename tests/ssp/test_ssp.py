"""Tests of sedjax.ssp.grid: DSPS-layout SSP files (small hand-made grids)."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from sedjax.physics.constants import C_AA_S
from sedjax.ssp.grid import (
    REQUIRED_DATASETS,
    SSPData,
    SSPFormatError,
    bolometric_luminosity_lsun,
    load_ssp,
    validate_ssp,
    write_ssp,
)

N_MET, N_AGE, N_WAVE = 3, 4, 5


def small_ssp(**changes) -> SSPData:
    """A valid (3 met, 4 age, 5 wave) grid with provenance attributes."""
    rng = np.random.default_rng(0)
    ssp = SSPData(
        ssp_lgmet=np.log10([0.004, 0.02, 0.05]),
        ssp_lg_age_gyr=np.array([-3.0, -2.0, -1.0, 1.0]),
        ssp_wave=np.array([1000.0, 2000.0, 4000.0, 8000.0, 16000.0]),
        ssp_flux=rng.uniform(0.0, 1e-3, size=(N_MET, N_AGE, N_WAVE)),
        ssp_mass_remaining=np.linspace(1.0, 0.5, N_MET * N_AGE).reshape(N_MET, N_AGE),
        zsun=0.02,
        attrs={"source": "unit test", "imf": "Kroupa (2001)", "source_sha256": "0" * 64},
    )
    return ssp._replace(**changes)


def write_raw(path, datasets: dict, attrs: dict) -> None:
    """Write an HDF5 file without any validation (to build broken files)."""
    with h5py.File(path, "w") as f:
        for name, data in datasets.items():
            f.create_dataset(name, data=data)
        for key, value in attrs.items():
            f.attrs[key] = value


def raw_parts(ssp: SSPData | None = None) -> tuple[dict, dict]:
    ssp = ssp or small_ssp()
    datasets = {name: getattr(ssp, name) for name in REQUIRED_DATASETS}
    datasets["ssp_mass_remaining"] = ssp.ssp_mass_remaining
    return datasets, {"zsun": ssp.zsun, "source": "unit test"}


def assert_format_error(path, field: str) -> SSPFormatError:
    with pytest.raises(SSPFormatError) as info:
        load_ssp(path)
    message = str(info.value)
    assert str(path) in message
    assert field in message
    assert "Fix:" in message
    return info.value


# ----------------------------------------------------------------------------- round trip


def test_write_load_round_trip_is_exact(tmp_path):
    ssp = small_ssp()
    path = write_ssp(tmp_path / "grid.h5", ssp)
    loaded = load_ssp(path)
    for name in (*REQUIRED_DATASETS, "ssp_mass_remaining"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(ssp, name))
        assert getattr(loaded, name).dtype == np.float64
    assert loaded.zsun == 0.02
    for key in ("source", "imf", "source_sha256", "zsun", "created_utc"):
        assert key in loaded.attrs
    versions = json.loads(loaded.attrs["created_with"])
    assert list(versions) == ["python", "sedjax", "numpy", "h5py", "astropy", "jax", "bagpipes"]
    assert all(isinstance(v, str) and v for v in versions.values())  # "not installed" when absent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.h5"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600


def test_write_stores_dict_and_list_attrs_as_json(tmp_path):
    ssp = small_ssp(attrs={**small_ssp().attrs, "dropped": [{"index": 2, "reason": "x"}]})
    loaded = load_ssp(write_ssp(tmp_path / "g.h5", ssp))
    assert json.loads(loaded.attrs["dropped"]) == [{"index": 2, "reason": "x"}]


def test_mass_remaining_is_optional(tmp_path):
    loaded = load_ssp(write_ssp(tmp_path / "g.h5", small_ssp(ssp_mass_remaining=None)))
    assert loaded.ssp_mass_remaining is None


def test_unknown_datasets_are_ignored(tmp_path):
    datasets, attrs = raw_parts()
    datasets["ssp_emline_wave"] = np.array([6563.0])
    write_raw(tmp_path / "g.h5", datasets, attrs)
    loaded = load_ssp(tmp_path / "g.h5")
    assert loaded.ssp_flux.shape == (N_MET, N_AGE, N_WAVE)


def test_write_overwrites_atomically(tmp_path):
    dest = tmp_path / "g.h5"
    dest.write_text("old content")
    write_ssp(dest, small_ssp())
    assert load_ssp(dest).ssp_wave.size == N_WAVE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.h5"]


def test_write_rejects_invalid_grid_and_leaves_no_file(tmp_path):
    bad = small_ssp(ssp_wave=small_ssp().ssp_wave[::-1].copy())
    with pytest.raises(SSPFormatError, match="ssp_wave"):
        write_ssp(tmp_path / "g.h5", bad)
    assert list(tmp_path.iterdir()) == []


def test_write_requires_provenance(tmp_path):
    with pytest.raises(SSPFormatError, match="source_sha256"):
        write_ssp(tmp_path / "g.h5", small_ssp(attrs={"source": "x", "imf": "y"}))
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- load errors


def test_missing_file(tmp_path):
    assert_format_error(tmp_path / "absent.h5", "does not exist")


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "grid.h5"
    path.write_text("this is not HDF5\n")
    assert_format_error(path, "not an HDF5 file")


def test_truncated_file(tmp_path):
    path = write_ssp(tmp_path / "grid.h5", small_ssp())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in str(assert_format_error(path, "file"))


@pytest.mark.parametrize("name", REQUIRED_DATASETS)
def test_missing_dataset(tmp_path, name):
    datasets, attrs = raw_parts()
    del datasets[name]
    write_raw(tmp_path / "g.h5", datasets, attrs)
    assert_format_error(tmp_path / "g.h5", f"dataset '{name}'")


def test_inconsistent_flux_shape(tmp_path):
    datasets, attrs = raw_parts()
    datasets["ssp_flux"] = datasets["ssp_flux"][:, :-1, :]
    write_raw(tmp_path / "g.h5", datasets, attrs)
    assert "(n_met, n_age, n_wave)" in str(assert_format_error(tmp_path / "g.h5", "ssp_flux"))


def test_inconsistent_mass_remaining_shape(tmp_path):
    datasets, attrs = raw_parts()
    datasets["ssp_mass_remaining"] = datasets["ssp_mass_remaining"].T
    write_raw(tmp_path / "g.h5", datasets, attrs)
    assert_format_error(tmp_path / "g.h5", "ssp_mass_remaining")


@pytest.mark.parametrize("name", ["ssp_wave", "ssp_lg_age_gyr", "ssp_lgmet"])
def test_non_increasing_axis(tmp_path, name):
    datasets, attrs = raw_parts()
    axis = datasets[name].copy()
    axis[1] = axis[0]
    datasets[name] = axis
    write_raw(tmp_path / "g.h5", datasets, attrs)
    assert "strictly increasing" in str(assert_format_error(tmp_path / "g.h5", name))


@pytest.mark.parametrize("bad_value, words", [(np.nan, "NaN"), (-1e-5, "negative")])
def test_bad_flux_values(tmp_path, bad_value, words):
    datasets, attrs = raw_parts()
    datasets["ssp_flux"] = datasets["ssp_flux"].copy()
    datasets["ssp_flux"][1, 2, 3] = bad_value
    write_raw(tmp_path / "g.h5", datasets, attrs)
    message = str(assert_format_error(tmp_path / "g.h5", "ssp_flux"))
    assert words in message and "(1, 2, 3)" in message


def test_missing_zsun(tmp_path):
    datasets, _ = raw_parts()
    write_raw(tmp_path / "g.h5", datasets, {"source": "dsps"})
    assert "attrs['zsun']" in str(assert_format_error(tmp_path / "g.h5", "zsun"))


def test_validate_in_memory_names_memory():
    with pytest.raises(SSPFormatError, match="<memory>.*zsun"):
        validate_ssp(small_ssp(zsun=float("nan")))


# ----------------------------------------------------------------------------- bolometric


def test_bolometric_luminosity_of_flat_l_lambda():
    """L_lambda = 2 L_sun/AA between 1000 and 16000 AA -> L_bol = 2 * 15000 L_sun exactly."""
    ssp = small_ssp()
    l_nu = 2.0 * ssp.ssp_wave**2 / C_AA_S
    flat = ssp._replace(ssp_flux=np.broadcast_to(l_nu, ssp.ssp_flux.shape).copy())
    lbol_lsun = bolometric_luminosity_lsun(flat)
    assert lbol_lsun.shape == (N_MET, N_AGE)
    np.testing.assert_allclose(lbol_lsun, 2.0 * 15000.0, rtol=1e-13)
