"""Zip archives as a data room delivers them: checked whole, then unpacked for the run alone.

A company's data may come as ``exports.zip`` (or a folder holding one). Before
a byte is unpacked, the archive's directory is checked, and the archive is
refused, with what to do, when a member:

- would land outside the folder it is unpacked into (``../x.csv``, ``/etc/x``,
  ``C:\\x``): no CRM writes such names;
- is encrypted: the kit has no password to ask for;
- is itself an archive (``2024.zip`` inside ``exports.zip``): say which to
  unpack rather than unpack archives within archives;
- or when the archive unpacks to more than :attr:`ArchiveLimits.max_bytes`, a
  member is compressed beyond :attr:`ArchiveLimits.max_ratio` (a zip bomb:
  CRM exports compress about ten to one), or it holds more than
  :attr:`ArchiveLimits.max_members` files.

What passes is unpacked into a folder the caller owns and removes (the run's
temp folder), one sub-folder per member so that two members of one name in
different folders stay apart; the limits are enforced again while copying, so
a member whose directory entry lies about its size cannot get past them.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from diligence.params import DEFAULTS

#: Members that are archives themselves, by suffix.
NESTED_SUFFIXES = (".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zipx")
_SMALL = 1 << 20  # below a mebibyte a member's ratio says nothing (a header-only CSV compresses 50:1)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """How large a zip archive of company data may be (run parameter ``archive_limits``)."""

    max_bytes: int  # unpacked, all members
    max_ratio: float  # unpacked / packed size of one member over a mebibyte
    max_members: int

    @classmethod
    def from_params(cls, limits: Mapping[str, float] | None = None) -> ArchiveLimits:
        """From the run parameter ``archive_limits`` (``max_mb``, ``max_ratio``,
        ``max_members``); its defaults where ``limits`` is None."""
        limits = DEFAULTS["archive_limits"] if limits is None else limits
        return cls(int(limits["max_mb"] * 2**20), float(limits["max_ratio"]), int(limits["max_members"]))


class ArchiveProblem(Exception):
    """An archive the kit refuses; ``action`` says what to do."""

    def __init__(self, message: str, action: str) -> None:
        super().__init__(message)
        self.message, self.action = message, action


def is_archive(path: Path) -> bool:
    """A file to unpack as company data: a ``.zip`` by its name."""
    return path.suffix.lower() == ".zip"


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n < 10 * 2**20 else f"{n / 2**20:,.0f} MiB"


def _escapes(name: str) -> bool:
    """A member name that would land outside the folder it is unpacked into."""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) is not None or ".." in PurePosixPath(posix).parts


def _ignored(name: str) -> bool:
    """Folders, and the files archivers add that are no data (macOS forks, dot files)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.endswith("/") or not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts)


def data_members(zf: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The members of ``zf`` to read, once every check of the module passed.

    Raises :class:`ArchiveProblem` naming the first offending member (or the
    whole archive's size) and what to do.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise ArchiveProblem(
            f"the archive holds {len(infos):,} entries, more than the {limits.max_members:,} allowed",
            "send the tables' files in an archive of their own (or raise archive_limits.max_members)",
        )
    escaping = [i.filename for i in infos if _escapes(i.filename)]
    if escaping:
        raise ArchiveProblem(
            f"member {escaping[0]!r} would be unpacked outside the archive's folder (an absolute path or '..')",
            "unpack the archive yourself and give the folder of tables, or re-create the archive from it",
        )
    members = [i for i in infos if not _ignored(i.filename)]
    encrypted = [i.filename for i in members if i.flag_bits & 0x1]
    if encrypted:
        raise ArchiveProblem(
            f"member {encrypted[0]!r} is encrypted ({len(encrypted)} encrypted member(s))",
            "unpack the archive with its password and give the folder of tables",
        )
    nested = [i.filename for i in members if i.filename.lower().endswith(NESTED_SUFFIXES)]
    if nested:
        raise ArchiveProblem(
            f"member {nested[0]!r} is itself an archive; archives inside archives are not unpacked",
            f"unpack {nested[0]!r} and give the folder (or that archive) instead",
        )
    links = [i.filename for i in members if stat.S_ISLNK(i.external_attr >> 16)]
    if links:
        raise ArchiveProblem(
            f"member {links[0]!r} is a link, not a file",
            "re-create the archive from the files themselves",
        )
    total = sum(i.file_size for i in members)
    if total > limits.max_bytes:
        raise ArchiveProblem(
            f"the archive unpacks to {_mib(total)}, more than the {_mib(limits.max_bytes)} allowed",
            "check that it holds only the company's exports (or raise archive_limits.max_mb)",
        )
    for i in members:
        if i.file_size > _SMALL and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise ArchiveProblem(
                f"member {i.filename!r} unpacks to {i.file_size / max(i.compress_size, 1):,.0f} times its packed "
                f"size (more than {limits.max_ratio:g}): it looks like a zip bomb, not an export",
                "unpack it yourself if you trust it and give the folder (or raise archive_limits.max_ratio)",
            )
    return members


def unpack(path: Path, into: Path, limits: ArchiveLimits) -> list[tuple[str, Path]]:
    """Check ``path`` and unpack its data members into ``into``.

    Returns ``(member name, unpacked file)`` pairs in the archive's order; each
    file keeps its member's base name (so ``accounts.csv`` is found as the
    accounts table), in a sub-folder of its own.

    Raises :class:`ArchiveProblem` for a refused archive (see the module) or one
    that cannot be read.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveProblem(
            f"the archive cannot be opened ({exc})", "download it again from the data room, or unpack it yourself"
        ) from None
    out: list[tuple[str, Path]] = []
    written = 0
    with zf:
        for n, info in enumerate(data_members(zf, limits)):
            target = into / f"{n:05d}" / PurePosixPath(info.filename.replace("\\", "/")).name
            target.parent.mkdir(parents=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            raise ArchiveProblem(
                                f"member {info.filename!r} unpacks to more than its directory entry says, past "
                                f"the {_mib(limits.max_bytes)} allowed",
                                "download the archive again; if it persists, unpack it yourself",
                            )
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
                raise ArchiveProblem(
                    f"member {info.filename!r} cannot be unpacked ({exc})",
                    "download the archive again from the data room, or unpack it yourself",
                ) from None
            out.append((info.filename, target))
    return out
