"""Atomic file output: write to a hidden temporary file beside the destination, then rename.

Every writer in :mod:`sedjax` goes through :func:`atomic_output`, so an interrupted or
failed job never leaves a half-written result where Snakemake (or a user) would take it
for a finished one.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def temp_path_beside(dest, suffix: str = ".tmp") -> Path:
    """Create an empty temporary file next to ``dest`` for an atomic write.

    The file is hidden (``.<name>.<random><suffix>``) and gets the permissions a normal
    ``open(..., "w")`` would (0o666 minus the umask), not mkstemp's 0o600. Keep ``suffix``
    equal to the destination's where a writer infers the format from the file name
    (matplotlib's ``savefig``).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    return Path(name)


@contextmanager
def atomic_output(dest, suffix: str = ".tmp"):
    """Context manager yielding a temporary path; on success it is renamed to ``dest``.

    On any exception (KeyboardInterrupt included) the temporary file is removed and
    ``dest`` is left as it was.
    """
    dest = Path(dest)
    tmp = temp_path_beside(dest, suffix)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
