"""Whether a company's outputs are current: digests of its inputs and of the kit.

A company whose outputs are complete and whose inputs have not changed since
its last successful run (same fingerprint: data bytes, parameters, mapping,
as-of date, company name, kit code) need not run again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import diligence
from diligence import resources
from diligence.execution.outputs import FILES

#: Outputs that make a company's run complete (SPEC §7) when the job names no formats.
REQUIRED_OUTPUTS = ("report.html", "report.xlsx", "findings.json")
#: Where a company's input fingerprint is kept, relative to its output folder.
FINGERPRINT_FILE = Path("work") / "batch_fingerprint.json"
_CHUNK = 1 << 20


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (client exports can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(functools.partial(f.read, _CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def data_digests(data: str | Path) -> dict[str, str]:
    """SHA-256 of every file of a company's data, by path relative to it.

    A folder's files are taken recursively, hidden ones (``.DS_Store``,
    ``.~lock`` files) left out, in sorted order; a workbook is one file (key
    ``""``). A path that does not exist gives ``{}`` (the run will say why).
    """
    path = Path(data)
    if path.is_file():
        return {"": file_digest(path)}
    if not path.is_dir():
        return {}
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
    return {p.relative_to(path).as_posix(): file_digest(p) for p in files}


def _kit_files(root: Path) -> Iterator[tuple[str, Path]]:
    """The files under ``root`` that make up the kit, by relative path, sorted;
    bytecode caches and hidden files (editor and Jupyter checkpoints) left out."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if p.is_file() and "__pycache__" not in rel and not any(x.startswith(".") for x in rel) and p.suffix != ".pyc":
            yield p.relative_to(root).as_posix(), p


@functools.lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """The kit's version and a digest of its code, notebooks and templates.

    A new release, a changed step notebook or template invalidates the outputs
    of earlier batches; bytecode caches and hidden files (editor and Jupyter
    checkpoints) do not. The folders are found where the kit runs from — a
    checkout or an installed package — and each file is named relative to its
    folder, so the fingerprint does not depend on where that is.
    """
    h = hashlib.sha256(diligence.__version__.encode())
    roots = {
        "diligence": Path(diligence.__file__).resolve().parent,
        "notebooks": resources.notebooks_dir(),
        "templates": resources.templates_dir(),
    }
    for label, root in roots.items():
        if not root.is_dir():
            continue
        for rel, p in _kit_files(root):
            h.update(f"{label}/{rel}".encode())
            h.update(file_digest(p).encode())
    return f"{diligence.__version__}+{h.hexdigest()[:16]}"


def input_fingerprint(job: Mapping[str, Any]) -> dict[str, Any]:
    """What a company's outputs depend on, as a JSON-ready dict.

    The company's name (it is on the report), as-of date, resolved parameters,
    mapping (a preset name, or the file's path and digest), the digest of every
    data file, the kit's fingerprint and, with ``--previous``, the earlier run's findings. Equal dicts mean the same report.
    """
    mapping = job.get("mapping")
    mapping_file = Path(mapping) if mapping and Path(mapping).is_file() else None
    found = {
        "kit": kit_fingerprint(),
        "company": job["company"],
        "as_of": job["as_of"],
        "params": job["params"],
        "mapping": {"file": str(mapping_file), "sha256": file_digest(mapping_file)} if mapping_file else mapping,
        "data": {"path": job["data"], "files": data_digests(job["data"])},
        "formats": job.get("formats"),
    }
    if job.get("previous"):  # the earlier run compared with (only then, so other fingerprints stay as they were)
        previous = Path(job["previous"]) / "findings.json"
        found["previous"] = {"path": str(previous), "sha256": file_digest(previous) if previous.is_file() else None}
    return found


def outputs_complete(out: str | Path, formats: Sequence[str] | None = None) -> bool:
    """True when findings.json and the files of ``formats`` (default: report.html
    and report.xlsx) are all in ``out``."""
    names = REQUIRED_OUTPUTS if formats is None else ("findings.json", *(FILES[f] for f in formats))
    return all((Path(out) / name).is_file() for name in names)


def is_current(out: str | Path, fingerprint: Mapping[str, Any]) -> bool:
    """True when ``out`` holds complete outputs made from inputs with ``fingerprint``."""
    path = Path(out) / FINGERPRINT_FILE
    if not outputs_complete(out, fingerprint.get("formats")) or not path.is_file():
        return False
    try:
        return json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(fingerprint))
    except (OSError, ValueError):
        return False
