"""Kernels for the step notebooks: named kernelspec, IPC transport, quiet stderr.

Each step runs in a fresh kernel over IPC sockets in the run's own folder, so
kernels started side by side (a portfolio batch) never race for TCP ports, and
the kernel's own chatter goes to a log file instead of the user's terminal.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager

from diligence.errors import DiligenceError

KERNEL_NAME = os.environ.get("DILIGENCE_KERNEL", "diligence")


def check_kernel(name: str = KERNEL_NAME) -> str:
    """Return ``name`` if its kernelspec is installed, else raise with the fix."""
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise DiligenceError(
            f"The Jupyter kernel '{name}' is not installed. Run `make setup`, or "
            f"`python -m ipykernel install --sys-prefix --name {name}` in the kit's environment."
        ) from None
    return name


class QuietKernelManager(KernelManager):
    """A KernelManager that sends the kernel process's stdout/stderr to a file."""

    log_file: IO[str] | None = None

    def _quiet_kw(self, kw: dict[str, Any]) -> dict[str, Any]:
        if self.log_file is not None:
            kw.setdefault("stdout", self.log_file)
            kw.setdefault("stderr", self.log_file)
        return kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        return await super()._async_launch_kernel(kernel_cmd, **self._quiet_kw(kw))


def make_kernel_manager(sock_dir: Path, log_file: IO[str] | None, name: str = KERNEL_NAME) -> KernelManager:
    """A kernel manager over IPC sockets under ``sock_dir`` (kept short: AF_UNIX
    paths are limited to about 100 bytes)."""
    km = QuietKernelManager(kernel_name=name, transport="ipc", ip=str(sock_dir / "k"))
    km.log_file = log_file
    return km
