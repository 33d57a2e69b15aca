"""The one temp folder of a run.

Everything a run makes outside its output folder — kernel sockets and
connection files, Chromium's throwaway profile, a batch child's log, any temp
file a library makes while the run's ``TMPDIR`` points here — lives in one
folder, ``dk-<pid>-<kind>-<random>`` in the temp dir. It is removed on every
exit path Python sees (success, error, Ctrl+C, SIGTERM). A SIGKILL is not seen,
so the next run removes the folders whose ``<pid>`` is no longer alive
(:func:`clear_dead`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "dk-"


def root() -> Path:
    """The temp dir the run's folders go in (the one in force before any run)."""
    return Path(os.environ.get("DILIGENCE_TMPDIR") or tempfile.gettempdir())


@contextlib.contextmanager
def scratch(kind: str, *, redirect: bool = True) -> Iterator[Path]:
    """A fresh ``dk-<pid>-<kind>-*`` folder, removed when the block ends however it ends.

    With ``redirect``, while the block runs ``TMPDIR`` (for the processes the
    run starts) and Python's own temp dir point into it, so what they leave goes
    with it; the temp dir in force before is kept in ``DILIGENCE_TMPDIR``, so
    that a run the block starts puts its own folder beside this one, not inside
    it. That changes the process's environment: only a process's one run may
    redirect (a batch's threads do not).
    """
    top = root()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-{kind}-", dir=top))
    if not redirect:
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    saved = {name: os.environ.get(name) for name in ("TMPDIR", "DILIGENCE_TMPDIR")}
    saved_tempdir = tempfile.tempdir
    os.environ.update(TMPDIR=str(folder), DILIGENCE_TMPDIR=str(top))
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


def clear_dead(top: Path | None = None) -> None:
    """Remove the ``dk-<pid>-*`` folders of processes that are gone (a SIGKILL never
    reached their clean-up). Those of live processes stay: a batch runs side by side."""
    import psutil

    top = Path(top or root())
    for folder in top.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
