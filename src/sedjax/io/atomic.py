"""Atomic file output: write to a hidden temporary file beside the destination, then rename.

Every writer in :mod:`sedjax` goes through :func:`atomic_output`, so an interrupted or
failed job never leaves a half-written result where Snakemake (or a user) would take it
for a finished one.

A job killed with SIGTERM (Snakemake cancelling a run, Slurm's time limit) removes its
temporary files too: while one exists, a SIGTERM handler (installed only where SIGTERM
still has its default action, and only from the main thread) deletes every live
temporary file, then lets the signal terminate the process as before.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

_LIVE: set[Path] = set()  # temporary files of atomic writes in progress


def _remove_live_and_terminate(signum, frame):  # noqa: ARG001 (signal handler signature)
    for p in list(_LIVE):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)  # terminate as the default action would (exit status -SIGTERM)


def _install_sigterm_cleanup() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _remove_live_and_terminate)
    except (ValueError, OSError):  # pragma: no cover - no signals here
        pass


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

    On any exception (KeyboardInterrupt included) or SIGTERM the temporary file is removed
    and ``dest`` is left as it was.
    """
    dest = Path(dest)
    _install_sigterm_cleanup()
    tmp = temp_path_beside(dest, suffix)
    _LIVE.add(tmp)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _LIVE.discard(tmp)
