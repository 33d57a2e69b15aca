"""Kernels for the step notebooks: named kernelspec, IPC transport, quiet stderr.

Each step runs in a fresh kernel over IPC sockets in the run's own folder, so
kernels started side by side (a portfolio batch) never race for TCP ports, and
the kernel's own chatter goes to a log file instead of the user's terminal.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

from diligence.errors import DiligenceError
from diligence.processes import die_with_parent

DEFAULT_KERNEL = "diligence"
KERNEL_NAME = os.environ.get("DILIGENCE_KERNEL", DEFAULT_KERNEL)
DISPLAY_NAME = "Coverage diligence (Python 3)"


def install_kernel(name: str = DEFAULT_KERNEL, *, user: bool = False) -> Path:
    """Install the kernelspec ``name`` that starts this Python, and return its folder.

    The spec goes into this environment (``sys.prefix``), where Jupyter looks
    first when it runs from a virtual environment; ``user=True`` puts it in the
    user's Jupyter folder instead (for a Python whose prefix is read-only).
    ``diligence kernel install`` calls this; so does the first run that finds
    no kernel.
    """
    from ipykernel.kernelspec import install

    try:
        where = install(kernel_name=name, display_name=DISPLAY_NAME, user=user, prefix=None if user else sys.prefix)
    except OSError as exc:
        raise DiligenceError(
            f"Could not install the Jupyter kernel '{name}' ({exc}). "
            "Run `diligence kernel install --user` to put it in your own Jupyter folder."
        ) from None
    return Path(where)


def _runs_this_python(argv: list[str]) -> bool:
    # Two venvs' pythons are symlinks to one interpreter: compare their bin folders.
    first = Path(argv[0]) if argv else None
    if first is None or not first.is_absolute():
        return True
    return first.parent.resolve() == Path(sys.executable).parent.resolve()


def check_kernel(name: str = KERNEL_NAME, *, install_missing: bool = True) -> str:
    """Return ``name`` once its kernelspec is installed, else raise with the fix.

    The kit's own kernel is installed into this environment when it is missing
    (the first run after ``pip install``); when it starts another environment's
    Python the run would execute another copy of the kit, so that is refused.
    A kernel named through ``DILIGENCE_KERNEL`` is the user's to install.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        if name != DEFAULT_KERNEL or not install_missing:
            raise DiligenceError(
                f"The Jupyter kernel '{name}' is not installed. Run `diligence kernel install` "
                "in the kit's environment (or `make setup` in a checkout)."
            ) from None
        install_kernel(name)
        return name
    if name == DEFAULT_KERNEL and not _runs_this_python(spec.argv):
        raise DiligenceError(
            f"The Jupyter kernel '{name}' starts {spec.argv[0]}, not this environment's Python "
            f"({sys.executable}). Run `diligence kernel install` to point it here."
        )
    return name


class QuietKernelManager(KernelManager):
    """A KernelManager that sends the kernel process's stdout/stderr to a file and
    starts the kernel so that it dies with the process that started it."""

    log_file: IO[str] | None = None
    kernel_cwd: str | None = None

    def _quiet_kw(self, kw: dict[str, Any]) -> dict[str, Any]:
        if self.kernel_cwd is not None:
            kw["cwd"] = self.kernel_cwd  # not papermill's chdir, which steps side by side would race for
        preexec = die_with_parent()
        if preexec is not None:
            kw.setdefault("preexec_fn", preexec)  # a run killed outright takes its kernel with it
        if self.log_file is not None:
            kw.setdefault("stdout", self.log_file)
            kw.setdefault("stderr", self.log_file)
        return kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        return await super()._async_launch_kernel(kernel_cmd, **self._quiet_kw(kw))

    def client(self, **kwargs: Any) -> Any:
        """A client with a session of its own. A warm kernel serves one step after
        another, each through a new client; clients sharing the manager's session
        share its socket identity, and the kernel's replies then reach whichever
        connected first (papermill leaves its client connected)."""
        from jupyter_client.session import Session

        kwargs.setdefault(
            "session",
            Session(
                key=self.session.key, signature_scheme=self.session.signature_scheme, username=self.session.username
            ),
        )
        return super().client(**kwargs)


def make_kernel_manager(
    sock_dir: Path, log_file: IO[str] | None, name: str = KERNEL_NAME, cwd: Path | None = None
) -> KernelManager:
    """A kernel manager over IPC sockets under ``sock_dir`` (kept short: AF_UNIX
    paths are limited to about 100 bytes) whose kernel starts in ``cwd``."""
    km = QuietKernelManager(kernel_name=name, transport="ipc", ip=str(sock_dir / "k"))
    km.connection_file = str(sock_dir / "kernel.json")  # beside its sockets: one folder to remove, whatever happens
    km.log_file = log_file
    km.kernel_cwd = str(cwd) if cwd is not None else None
    return km
