"""Snakemake script of rule ``add_nebular``: add Cloudy nebular emission to an SSP grid.

Under Snakemake (``script:``) it reads ``snakemake.input[0]`` (stellar grid, DSPS
layout), ``snakemake.params.log_u`` and ``snakemake.params.velocity_dispersion_kms``,
writes ``snakemake.output[0]`` (grid + ``ssp_emline_*`` line catalogue) and logs to
``snakemake.log[0]``. All work is done by :func:`sedjax.ssp.nebular.build.add_nebular_with_lines`
and :func:`sedjax.ssp.nebular.lines.write_ssp_with_lines` (atomic write).

For debugging it also runs from the command line::

    python scripts/add_nebular.py data/ssp/ssp_bc03_miles_kroupa.h5 \\
        data/ssp/ssp_bc03_miles_kroupa_wNE_logU-3.0.h5 --log-u -3.0 --log add_nebular.log
"""

import argparse
import json

from sedjax.io.runtime import setup_logging
from sedjax.ssp.grid import load_ssp
from sedjax.ssp.nebular.build import DEFAULT_VELOCITY_DISPERSION_KMS, add_nebular_with_lines
from sedjax.ssp.nebular.lines import write_ssp_with_lines
from sedjax.ssp.nebular.reader import DEFAULT_LOG_U


def main(
    input_path: str,
    output: str,
    log_u: float,
    velocity_dispersion_kms: float,
    log_path: str | None,
) -> None:
    """Read the stellar grid, add nebular emission at ``log_u``, write ``output``."""
    log = setup_logging(log_path, "add_nebular")
    settings = {
        "input": input_path,
        "output": output,
        "log_u": log_u,
        "velocity_dispersion_kms": velocity_dispersion_kms,
    }
    log.info("settings: %s", json.dumps(settings))
    try:
        ssp = load_ssp(input_path)
        ssp_neb, lines = add_nebular_with_lines(
            ssp, float(log_u), velocity_dispersion_kms=float(velocity_dispersion_kms)
        )
        path = write_ssp_with_lines(output, ssp_neb, lines)
    except Exception:
        log.exception("add_nebular failed")
        raise
    log.info("wrote %s (%d lines, logU %s)", path, lines.wave.size, log_u)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options mirroring the rule's input, output and params."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="stellar SSP grid (.h5, DSPS layout)")
    parser.add_argument("output", help="destination .h5 file")
    parser.add_argument("--log-u", type=float, default=DEFAULT_LOG_U, help="log10 ionisation parameter in [-4, 0]")
    parser.add_argument(
        "--velocity-dispersion",
        type=float,
        default=DEFAULT_VELOCITY_DISPERSION_KMS,
        help="line sigma in km/s (floored at the grid spacing)",
    )
    parser.add_argument("--log", help="log file (default: stderr only)")
    return parser.parse_args(argv)


if "snakemake" in globals():
    main(
        snakemake.input[0],  # noqa: F821
        snakemake.output[0],  # noqa: F821
        snakemake.params.log_u,  # noqa: F821
        snakemake.params.velocity_dispersion_kms,  # noqa: F821
        snakemake.log[0] if snakemake.log else None,  # noqa: F821
    )
elif __name__ == "__main__":
    _args = parse_args()
    main(_args.input, _args.output, _args.log_u, _args.velocity_dispersion, _args.log)
