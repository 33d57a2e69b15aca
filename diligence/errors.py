"""Exceptions the kit raises on purpose, each mapped to an exit code (SPEC §7)."""

from __future__ import annotations


class DiligenceError(Exception):
    """Base class: anything the kit reports to the user without a traceback."""

    exit_code = 1


class InputError(DiligenceError):
    """Bad input or bad arguments: the run stops before any notebook, exit 2.

    ``problems`` holds the individual findings (each a ``diligence.intake.Issue``
    or a plain string) so that the CLI can print them as a table.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class StepError(DiligenceError):
    """A notebook step failed: names the step and the cell's error, exit 1."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """A stop asked by a signal other than Ctrl+C (SIGTERM): handled as Ctrl+C is,
    the exit code 128 + ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
