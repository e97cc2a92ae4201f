"""Sources ``"url"`` and ``"file"``: a grid that already is a DSPS-layout HDF5 file.

``"url"`` downloads it (retrying network errors and HTTP 5xx), verifies its sha256 and
validates it; ``"file"`` validates a local file (and its sha256, if given) and copies it.
Both write ``dest`` atomically (temporary file beside it, then :func:`os.replace`).
"""

from __future__ import annotations

import logging
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from sedjax.io.atomic import atomic_output
from sedjax.ssp.grid import SSPFormatError, load_ssp
from sedjax.ssp.sources.checksum import normalise_sha256, verify_sha256
from sedjax.ssp.sources.errors import SSPSourceError

__all__ = ["download_url", "use_local_file"]

log = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20


def _fetch_once(url: str, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out, _CHUNK_BYTES)


def _fetch_with_retries(url: str, tmp: Path, retries: int, timeout: float, backoff_s: float) -> None:
    """Download url to tmp; retry network errors and HTTP 5xx, not HTTP 4xx."""
    for attempt in range(1, retries + 1):
        try:
            _fetch_once(url, tmp, timeout)
            return
        except urllib.error.HTTPError as err:
            if err.code < 500 or attempt == retries:
                raise SSPSourceError(f"download of {url} failed: HTTP {err.code} {err.reason}") from err
            problem = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            if attempt == retries:
                raise SSPSourceError(f"download of {url} failed after {retries} attempts: {err}") from err
            problem = str(err)
        log.warning("download of %s failed (attempt %d/%d: %s); retrying", url, attempt, retries, problem)
        time.sleep(backoff_s * 2 ** (attempt - 1))


def download_url(url: str, sha256: str, dest, retries: int = 3, timeout: float = 60, backoff_s: float = 1.0) -> Path:
    """Download a DSPS-layout SSP file, verify its sha256, validate it, move it to dest.

    The file is streamed to a temporary file beside ``dest``; only after the checksum
    and :func:`sedjax.ssp.grid.load_ssp` pass is it moved to ``dest`` with :func:`os.replace`.
    On any failure the temporary file is deleted and ``dest`` is left untouched.

    Parameters
    ----------
    url : str
        http(s)/file URL (fetched with urllib).
    sha256 : str
        Expected sha256, 64 hex digits.
    dest : str or path-like
        Destination ``.h5`` file.
    retries : int, optional
        Attempts for network errors and HTTP 5xx (HTTP 4xx fails at once).
    timeout : float, optional
        Socket timeout per attempt in seconds.
    backoff_s : float, optional
        Wait before the 2nd attempt in seconds, doubled for each further attempt.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ChecksumMismatchError
        Message names the URL, the expected and the actual sha256.
    SSPSourceError
        Download failed.
    SSPFormatError
        The file is not a valid DSPS-layout SSP file.
    """
    expected = normalise_sha256(sha256, f"ssp url {url}")
    dest = Path(dest)
    with atomic_output(dest) as tmp:
        log.info("downloading %s -> %s", url, dest)
        _fetch_with_retries(url, tmp, max(1, int(retries)), timeout, backoff_s)
        verify_sha256(tmp, expected, f"download of {url}")
        _validate_or_explain(tmp, f"the file downloaded from {url}")
    log.info("downloaded %s (sha256 %s)", dest, expected)
    return dest


def _validate_or_explain(path: Path, what: str) -> None:
    try:
        load_ssp(path)
    except SSPFormatError as err:
        raise SSPFormatError(f"{what} is not a valid DSPS-layout SSP grid: {err}") from err


def use_local_file(src, dest, sha256: str | None = None) -> Path:
    """Validate a local DSPS-layout SSP file and copy it to dest atomically.

    Parameters
    ----------
    src : str or path-like
        Existing ``.h5`` file in DSPS layout.
    dest : str or path-like
        Destination ``.h5`` file.
    sha256 : str, optional
        If given, the expected sha256 of ``src``.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    SSPFormatError
        ``src`` is missing or invalid (see :func:`sedjax.ssp.grid.load_ssp`).
    ChecksumMismatchError
        ``sha256`` is given and differs.
    """
    src, dest = Path(src), Path(dest)
    load_ssp(src)
    if sha256 is not None:
        verify_sha256(src, normalise_sha256(sha256, f"ssp file {src}"), f"file {src}")
    with atomic_output(dest) as tmp:
        shutil.copyfile(src, tmp)
    log.info("copied %s -> %s", src, dest)
    return dest
