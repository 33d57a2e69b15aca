"""The command line's view of a running batch (written to stderr by the CLI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class BatchProgress:
    """The command line's view of a batch: a progress bar and one line per company.

    Writes only to the rich ``console`` it is given (stderr for the CLI). Use
    :meth:`start` and :meth:`done` as ``run_batch``'s ``on_start`` and
    ``on_result``, and :meth:`stop` at the end.
    """

    def __init__(self, console: Any) -> None:
        self.console = console
        self.progress: Any = None
        self.task: Any = None
        self.total = self.slots = 0
        self.counts = {"ok": 0, "skipped": 0, "failed": 0}

    def _status(self) -> str:
        finished = sum(self.counts.values())
        running = min(self.slots, self.total - finished)
        return f"ok {self.counts['ok'] + self.counts['skipped']} · failed {self.counts['failed']} · running {running}"

    def start(self, jobs: Sequence[Mapping[str, Any]], slots: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.total, self.slots = len(jobs), slots
        self.progress = Progress(
            TextColumn("companies"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("batch", total=self.total, status=self._status())

    def done(self, result: Mapping[str, Any]) -> None:
        from rich.markup import escape

        status = str(result.get("status"))
        self.counts[status] = self.counts.get(status, 0) + 1
        style = {"ok": "green", "skipped": "cyan", "failed": "bold red"}.get(status, "")
        line = (
            f"[{style}]{status:<8}[/] {escape(str(result.get('company')))} ({float(result.get('seconds') or 0):.1f} s)"
        )
        if result.get("error"):
            line += f": {escape(str(result['error']).splitlines()[0])}"
        self.console.print(line, soft_wrap=True, highlight=False)
        if self.progress is not None:
            self.progress.update(self.task, advance=1, status=self._status())

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
