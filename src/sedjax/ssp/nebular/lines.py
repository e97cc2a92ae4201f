"""Emission-line catalogue of a nebular SSP grid: HDF5 I/O, key lines, a JAX kernel.

The catalogue is returned by :func:`sedjax.ssp.nebular.build.add_nebular_with_lines` as
:class:`EmissionLines` and stored with :func:`write_ssp_with_lines` as extra datasets
(ignored by :func:`sedjax.ssp.grid.load_ssp`):

``ssp_emline_name``       (n_line,)               Cloudy label (UTF-8 string)
``ssp_emline_wave``       (n_line,)               Angstrom
``ssp_emline_luminosity`` (n_met, n_age, n_line)  L_sun per M_sun formed (intrinsic)

and root attributes ``nebular_log_u``, ``nebular_source`` (+ ``nebular_*`` provenance).
:func:`line_luminosities` collapses the catalogue over a galaxy's metallicity weights
and mass per age (JAX, pure). Line luminosities are intrinsic (before dust), while the
lines inside ``ssp_flux`` are attenuated by whatever the forward model applies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from sedjax.io.atomic import atomic_output
from sedjax.ssp.grid import SSPData, write_ssp
from sedjax.ssp.nebular.errors import NebularGridError

__all__ = [
    "EmissionLines",
    "KEY_LINES",
    "write_ssp_with_lines",
    "has_emission_lines",
    "load_emission_lines",
    "key_line_indices",
    "line_luminosities",
]

#: Lines the forward model reports: name -> Cloudy labels summed (indices in bagpipes
#: 1.3.6: H-alpha 8, H-beta 9, [O III] 5007 75, [O II] 3726 + 3729 68 + 69).
KEY_LINES = {
    "halpha": ("H  1  6562.80A",),
    "hbeta": ("H  1  4861.32A",),
    "oiii_5007": ("O  3  5006.84A",),
    "oii_3727": ("O  2  3726.03A", "O  2  3728.81A"),
}


_LINES_DATASETS = ("ssp_emline_name", "ssp_emline_wave", "ssp_emline_luminosity")


class EmissionLines(NamedTuple):
    """Emission-line catalogue on an SSP grid.

    Attributes
    ----------
    name : ndarray (n_line,) of str
        Cloudy labels, e.g. ``"H  1  6562.80A"``.
    wave : ndarray (n_line,)
        Rest wavelength in Angstrom.
    luminosity : ndarray (n_met, n_age, n_line)
        Intrinsic luminosity in L_sun per M_sun formed, on the SSP's metallicities/ages.
    """

    name: np.ndarray
    wave: np.ndarray
    luminosity: np.ndarray



def write_ssp_with_lines(path, ssp: SSPData, lines: EmissionLines) -> Path:
    """Atomically write an SSP grid plus its emission-line catalogue.

    The grid is written with :func:`sedjax.ssp.grid.write_ssp` to a temporary file beside
    ``path``, the ``ssp_emline_*`` datasets are added, and the file is moved into place
    with :func:`os.replace`.

    Parameters
    ----------
    path : str or path-like
        Destination ``.h5`` file.
    ssp : SSPData
        Grid; ``attrs`` must hold ``nebular_log_u`` and ``nebular_source``.
    lines : EmissionLines
        ``luminosity`` of shape (n_met, n_age, n_line), finite and >= 0.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    for key in ("nebular_log_u", "nebular_source"):
        if key not in ssp.attrs:
            raise NebularGridError(f"SSPData.attrs lacks '{key}'; build the grid with add_nebular_with_lines")
    names = [str(n) for n in np.asarray(lines.name).tolist()]
    wave = np.asarray(lines.wave, dtype=np.float64)
    lum = np.asarray(lines.luminosity, dtype=np.float64)
    expected = (ssp.ssp_lgmet.size, ssp.ssp_lg_age_gyr.size, wave.size)
    if len(names) != wave.size or lum.shape != expected:
        raise NebularGridError(
            f"line catalogue shapes: {len(names)} names, wave {wave.shape}, luminosity {lum.shape}; "
            f"expected luminosity (n_met, n_age, n_line) = {expected}"
        )
    if not np.all(np.isfinite(lum)) or np.any(lum < 0):
        raise NebularGridError("line luminosities must be finite and >= 0")
    path = Path(path)
    with atomic_output(path) as tmp:
        write_ssp(tmp, ssp)
        with h5py.File(tmp, "a") as f:
            f.create_dataset("ssp_emline_name", data=np.array(names, dtype=object), dtype=h5py.string_dtype("utf-8"))
            f.create_dataset("ssp_emline_wave", data=wave)
            f.create_dataset("ssp_emline_luminosity", data=lum)
    return path



def has_emission_lines(path) -> bool:
    """Whether the SSP file ``path`` holds a line catalogue (``ssp_emline_luminosity``).

    True for a grid written by :func:`write_ssp_with_lines` (rule ``add_nebular``).
    """
    with h5py.File(path, "r") as f:
        return "ssp_emline_luminosity" in f


def load_emission_lines(path) -> dict:
    """Read the emission-line catalogue of an SSP file written by :func:`write_ssp_with_lines`.

    :func:`has_emission_lines` tells whether a file holds one.

    Returns
    -------
    dict
        ``ssp_emline_name`` (n_line,) ndarray of str, ``ssp_emline_wave`` (n_line,)
        Angstrom, ``ssp_emline_luminosity`` (n_met, n_age, n_line) L_sun per M_sun
        formed, ``nebular_log_u`` (float), ``nebular_source`` (str) and
        ``key_line_indices`` (see :func:`key_line_indices`).

    Raises
    ------
    NebularGridError
        The file has no line catalogue.
    """
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [name for name in _LINES_DATASETS if name not in f]
        if missing:
            raise NebularGridError(
                f"{path}: no emission-line catalogue (missing {missing}); build it with rule add_nebular"
            )
        names = np.array([n.decode() if isinstance(n, bytes) else str(n) for n in f["ssp_emline_name"][()]])
        out = {
            "ssp_emline_name": names,
            "ssp_emline_wave": np.asarray(f["ssp_emline_wave"][()], dtype=np.float64),
            "ssp_emline_luminosity": np.asarray(f["ssp_emline_luminosity"][()], dtype=np.float64),
        }
        for key in ("nebular_log_u", "nebular_source"):
            value = f.attrs.get(key)
            out[key] = value.decode() if isinstance(value, bytes) else value
    out["nebular_log_u"] = float(out["nebular_log_u"]) if out["nebular_log_u"] is not None else None
    out["nebular_source"] = None if out["nebular_source"] is None else str(out["nebular_source"])
    out["key_line_indices"] = key_line_indices(names)
    return out


def key_line_indices(names) -> dict[str, tuple[int, ...]]:
    """Indices of :data:`KEY_LINES` in a catalogue (labels compared without spaces).

    Returns
    -------
    dict
        ``{"halpha": (8,), "hbeta": (9,), "oiii_5007": (75,), "oii_3727": (68, 69)}``
        for bagpipes 1.3.6. A luminosity is the sum over the indices.
    """
    squashed = [re.sub(r"\s+", "", str(n)) for n in names]
    out = {}
    for key, labels in KEY_LINES.items():
        idx = []
        for label in labels:
            target = re.sub(r"\s+", "", label)
            if target not in squashed:
                raise NebularGridError(f"line '{label}' ({key}) not in the catalogue")
            idx.append(squashed.index(target))
        out[key] = tuple(idx)
    return out


# ----------------------------------------------------------------------------- JAX


def line_luminosities(emline_luminosity, met_weights, mass_per_age):
    """Line luminosities of a galaxy (pure JAX; jit/vmap/grad-safe).

    Parameters
    ----------
    emline_luminosity : array (n_met, n_age, n_line)
        L_sun per M_sun formed (``ssp_emline_luminosity``).
    met_weights : array (n_met,)
        Metallicity weights (e.g. ``sedjax.physics.ssp_weights.met_weights``), summing to 1.
    mass_per_age : array (n_age,)
        M_sun formed per SSP age (young + old).

    Returns
    -------
    jax.Array (n_line,)
        Intrinsic (unattenuated) line luminosities in L_sun.
    """
    import jax.numpy as jnp

    return jnp.einsum(
        "mal,m,a->l", jnp.asarray(emline_luminosity), jnp.asarray(met_weights), jnp.asarray(mass_per_age)
    )
