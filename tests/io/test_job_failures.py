"""A failed job's log holds its traceback; SIGTERM removes atomic writes' temporary files (issue 16)."""

import signal
import subprocess
import sys
import textwrap
import time


def test_uncaught_exception_goes_to_the_log_file(tmp_path):
    log = tmp_path / "logs" / "job.log"
    code = textwrap.dedent(f"""
        from sedjax.io.runtime import setup_logging
        log = setup_logging({str(log)!r}, "job")
        log.info("starting")
        raise RuntimeError("catalogue column 'flux_sdss_q' is missing")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    text = log.read_text()
    assert "starting" in text and "job failed with an uncaught exception" in text
    assert "Traceback" in text and "RuntimeError: catalogue column 'flux_sdss_q' is missing" in text
    assert "RuntimeError" in r.stderr and r.stderr.count("Traceback") == 1  # stderr as before, once


def test_sigterm_removes_temporary_files(tmp_path):
    dest = tmp_path / "out" / "result.h5"
    ready = tmp_path / "ready"
    code = textwrap.dedent(f"""
        import pathlib, time
        from sedjax.io.atomic import atomic_output
        with atomic_output({str(dest)!r}) as tmp:
            tmp.write_bytes(b"half")
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", code])
    t0 = time.time()
    while not ready.exists() and time.time() - t0 < 60 and p.poll() is None:
        time.sleep(0.05)
    assert ready.exists()
    assert len(list(dest.parent.iterdir())) == 1  # the temporary file exists
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == -signal.SIGTERM
    assert list(dest.parent.iterdir()) == []  # no temporary file, no result
