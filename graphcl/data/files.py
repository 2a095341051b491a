"""Data files shared by the homogeneous and heterogeneous loaders: where the data root is, the
checksums that guard it, and the error a file that cannot be parsed raises.

:mod:`graphcl.data.datasets` and :mod:`graphcl.data.hetero` both import this module and neither
imports the other.

Data lookup (``DESIGN.md`` §5b): the ``root`` argument, then ``$GRAPHCL_DATA``, then the
checkout's ``datasets/`` folder; the first of these that holds the dataset's folder is used. A
``root`` or ``$GRAPHCL_DATA`` that is not an existing directory is an error (a typo should not
silently fall through to another copy of the data).

Integrity: :func:`verify_file` compares a file's sha256 with ``checksums.json`` (the checkout's
``datasets/checksums.json`` first, then a ``checksums.json`` at the data root in use). Hashes and
checksum tables are memoised per (resolved path, mtime, size) within the process, so repeated
loads do not re-hash.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol, Union

from graphcl.errors import GraphclInputError

__all__ = [
    "CHECKSUMS_FILE",
    "ENV_CACHE",
    "ENV_DATA",
    "PARSE_ERRORS",
    "PathLike",
    "corrupt_file_error",
    "default_data_root",
    "expected_sha256",
    "lookup_dataset",
    "read_checksums",
    "resolve_root",
    "sha256_file",
    "verify_file",
    "verify_folders",
]

PathLike = Union[str, "os.PathLike[str]"]

ENV_DATA = "GRAPHCL_DATA"
ENV_CACHE = "GRAPHCL_CACHE"
CHECKSUMS_FILE = "checksums.json"


class DatasetLocation(Protocol):
    """What :func:`resolve_root` reads of a dataset description (``DatasetInfo`` and
    ``HeteroDatasetInfo`` both qualify)."""

    name: str

    @property
    def folder(self) -> str:  # pragma: no cover - protocol
        ...


# ----------------------------------------------------------------------------------------------
# Names and locations
# ----------------------------------------------------------------------------------------------


def lookup_dataset(table: Mapping[str, Any], name: str, what: str) -> Any:
    """``table[name]`` for a case- and space-insensitive dataset name.

    Args:
        table: Lower-case name -> dataset description.
        name: The name a user gave.
        what: The family, for the message (``"dataset"``, ``"heterogeneous dataset"``).

    Raises:
        GraphclInputError: ``name`` is not a string, or unknown (the message lists the known ones).
    """
    if not isinstance(name, str):
        raise GraphclInputError(f"dataset name must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key not in table:
        raise GraphclInputError(f"unknown {what} {name!r}; known: {', '.join(table)}")
    return table[key]


def default_data_root() -> Path:
    """The checkout's ``datasets/`` folder (``Path(graphcl.__file__).parents[1] / "datasets"``)."""
    return Path(__file__).resolve().parents[2] / "datasets"


def resolve_root(info: DatasetLocation, root: Optional[PathLike]) -> Path:
    """Return the data root (the folder that holds ``info.folder``), in lookup order.

    Args:
        info: The dataset's description; only ``info.name`` and ``info.folder`` are read.
        root: The ``root`` argument of a loader, or ``None``.

    Raises:
        GraphclInputError: ``root`` or ``$GRAPHCL_DATA`` is not a directory, or no location holds
            ``info.folder`` (the message lists what was searched and names ``$GRAPHCL_DATA``).
    """
    searched: list[str] = []
    if root is not None:
        r = Path(root).expanduser()
        if not r.is_dir():
            raise GraphclInputError(f"data root {str(r)!r} (the root argument) is not a directory")
        if (r / info.folder).is_dir():
            return r
        searched.append(f"root argument: {r}")
    env = os.environ.get(ENV_DATA)
    if env:
        e = Path(env).expanduser()
        if not e.is_dir():
            raise GraphclInputError(f"${ENV_DATA}={env!r} is not a directory")
        if (e / info.folder).is_dir():
            return e
        searched.append(f"${ENV_DATA}: {e}")
    default = default_data_root()
    if (default / info.folder).is_dir():
        return default
    searched.append(f"the checkout's datasets/: {default}")
    raise GraphclInputError(
        f"dataset {info.name!r}: folder {info.folder!r} not found (searched {'; '.join(searched)}). "
        f"Pass root=... or set ${ENV_DATA} to a folder that contains {info.folder}/"
    )


# ----------------------------------------------------------------------------------------------
# Checksums (memoised per path + mtime + size)
# ----------------------------------------------------------------------------------------------

_HASH_MEMO: dict[tuple[str, int, int], str] = {}
_CHECKSUM_MEMO: dict[tuple[str, int, int], dict[str, str]] = {}


def _stat_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def sha256_file(path: Path) -> str:
    """sha256 (hex) of a file, memoised per (resolved path, mtime_ns, size) within the process."""
    key = _stat_key(path)
    digest = _HASH_MEMO.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        _HASH_MEMO[key] = digest
    return digest


def read_checksums(path: Path) -> dict[str, str]:
    """A ``checksums.json`` file: ``{path relative to the data root: sha256}`` (memoised).

    Raises:
        GraphclInputError: The file cannot be read or is not such a JSON object.
    """
    key = _stat_key(path)
    table = _CHECKSUM_MEMO.get(key)
    if table is None:
        try:
            with open(path, encoding="utf-8") as f:
                table = json.load(f)
        except (OSError, ValueError) as exc:
            raise GraphclInputError(f"cannot read checksum file {path}: {exc}") from None
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in table.items()
        ):
            raise GraphclInputError(
                f"checksum file {path} must hold a JSON object {{relative path: sha256}}"
            )
        _CHECKSUM_MEMO[key] = table
    return table


def expected_sha256(rel: str, data_root: Path) -> str:
    """The listed sha256 of ``rel`` (a path relative to ``data_root``).

    Raises:
        GraphclInputError: Neither checksum file lists ``rel``.
    """
    for table_path in (default_data_root() / CHECKSUMS_FILE, data_root / CHECKSUMS_FILE):
        if table_path.is_file():
            digest = read_checksums(table_path).get(rel)
            if digest is not None:
                return digest
    raise GraphclInputError(
        f"no checksum known for {rel} (looked in {default_data_root() / CHECKSUMS_FILE} and "
        f"{data_root / CHECKSUMS_FILE}); pass verify=False to load it unchecked"
    )


def verify_file(path: Path, rel: str, data_root: Path) -> None:
    """Check the sha256 of ``path`` (``rel`` relative to ``data_root``) against the checksums.

    Raises:
        GraphclInputError: No checksum is listed, or the file's differs (the message names it).
    """
    expected = expected_sha256(rel, data_root)
    actual = sha256_file(path)
    if actual != expected.lower():
        raise GraphclInputError(
            f"checksum mismatch for {path}: sha256 {actual}, expected {expected} "
            f"(the file is corrupted or altered; restore it, or pass verify=False)"
        )


def verify_folders(folders: list[str], data_root: Path) -> list[str]:
    """Check every file that ``checksums.json`` lists under ``folders`` of ``data_root``.

    Returns:
        One line per problem (a missing file or a sha256 mismatch), empty when all match.
    """
    table: dict[str, str] = {}
    for table_path in (data_root / CHECKSUMS_FILE, default_data_root() / CHECKSUMS_FILE):
        if table_path.is_file():
            table = {**read_checksums(table_path), **table}
    problems = []
    for folder in folders:
        entries = {rel: digest for rel, digest in table.items() if rel.startswith(folder + "/")}
        if not entries:
            problems.append(f"{folder}: no checksums listed")
        for rel, digest in sorted(entries.items()):
            path = data_root / rel
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif sha256_file(path) != digest.lower():
                problems.append(f"{path}: sha256 mismatch (corrupted or altered)")
    return problems


# ----------------------------------------------------------------------------------------------
# Parse failures
# ----------------------------------------------------------------------------------------------

#: What a parser of a shipped file may raise on bad content; loaders turn these into
#: :func:`corrupt_file_error`.
PARSE_ERRORS = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    EOFError,
    OSError,
    zlib.error,
    gzip.BadGzipFile,
    zipfile.BadZipFile,
    pickle.UnpicklingError,
    UnicodeDecodeError,
)


def corrupt_file_error(path: Path, exc: BaseException) -> GraphclInputError:
    """The error for a file that cannot be parsed: names the file and the first line of the cause."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return GraphclInputError(f"cannot parse {path}: {type(exc).__name__}: {msg[:200]}")
