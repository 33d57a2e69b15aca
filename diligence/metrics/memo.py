"""Intermediate frames that several metric functions build from the same tables, built once.

A step calls several functions of one concern on the same tables (the
coverage step builds the per-account coverage frame for its metrics, its
grid, its top lists and its orphaned books). :func:`once_per_tables` keeps
the last result of such a builder, keyed on the identity of the tables it
reads and the values of the parameters it reads, so the next call on the
same inputs returns it instead of building it again.

The functions stay pure: the result only depends on the inputs, a caller
gets a shallow copy (copy-on-write keeps the kept frame apart from what the
caller does to its copy), and an input changed in place is a new input: the
cache holds a shallow copy of each input, so pandas' copy-on-write gives a
frame written in place new column arrays, whose identity the key includes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd

Result = TypeVar("Result", pd.DataFrame, pd.Series, pd.Index)
_EVERY: list[Callable[[], None]] = []  # each builder's cache_clear


def _stamp(frame: Any) -> tuple:
    """What identifies ``frame`` while it is kept: the object, its shape and
    columns, and the arrays that hold its columns (new ones after a write)."""
    if frame is None:
        return (None,)
    if not isinstance(frame, pd.DataFrame):
        return (id(frame),)
    blocks = tuple(id(block.values) for block in frame._mgr.blocks)
    return (id(frame), len(frame), tuple(frame.columns), blocks)


def _param(params: Any, name: str) -> str:
    return repr(params[name]) if name in params else "<absent>"


def _every_param(params: Any) -> tuple:
    return tuple(sorted((str(k), repr(v)) for k, v in params.items()))


def _shallow(result: Result | None) -> Result | None:
    return None if result is None else result.copy(deep=False)


def once_per_tables(tables: Sequence[str] | None = None, params: Sequence[str] | None = None) -> Callable:
    """Decorate ``build(tables, params) -> frame`` to build it once per inputs.

    ``tables`` names the tables ``build`` reads, ``params`` the parameters
    (None: every table, every parameter, for a builder that reads many);
    the last result is kept (one entry: a step works on one company) with
    the inputs it was built from, and returned again, as a shallow copy, while
    the same frames (same objects, not written since) and the same parameter
    values come back. ``build.cache_clear()`` forgets it.
    """

    def decorate(build: Callable[[dict, dict], Result]) -> Callable[[dict, dict], Result]:
        lock = threading.Lock()
        kept: list[tuple[tuple, tuple, Result]] = []  # (key, the inputs and their copies, result)

        @functools.wraps(build)
        def cached(tables_: dict, params_: dict) -> Result:
            names = sorted(tables_) if tables is None else tables
            frames = tuple(tables_.get(name) for name in names)
            values = _every_param(params_) if params is None else tuple(_param(params_, p) for p in params)
            key = (tuple(names), *(_stamp(f) for f in frames), *values)
            with lock:
                if kept and kept[0][0] == key:
                    return _shallow(kept[0][2])
            result = build(tables_, params_)
            # the inputs themselves (their ids stay theirs) and shallow copies (a write then copies)
            held = frames + tuple(f.copy(deep=False) for f in frames if isinstance(f, pd.DataFrame))
            with lock:
                kept[:] = [(key, held, result)]
            return _shallow(result)

        def cache_clear() -> None:
            with lock:
                kept.clear()

        cached.cache_clear = cache_clear  # type: ignore[attr-defined]
        _EVERY.append(cache_clear)
        return cached

    return decorate


def clear_all() -> None:
    """Forget every kept frame (a warm kernel between two steps: the next step's
    tables are other frames, and the last step's need not stay in memory)."""
    for clear in _EVERY:
        clear()
