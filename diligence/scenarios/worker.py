"""The worker process of :class:`~diligence.scenarios.heuristic.SolveAhead`.

``python -m diligence.scenarios.worker`` reads pickled problems from its
standard input and writes their answers, pickled, to its standard output,
until its input ends. Ctrl+C is left to the process that started it (which
stops it), and anything a solver prints below Python goes to the null
device, never into the answers.
"""

from __future__ import annotations

import os
import signal
import sys

from diligence.scenarios.heuristic import serve


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    with answers:
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
