"""Read a user's own graph from files: headerless CSV, ``.npy`` or ``.npz``.

* features: one row per node, ``F`` comma-separated finite numbers (CSV) or a ``[N, F]`` array
  (NPY); row ``i`` is node ``i`` (node ids are 0-based);
* edges: two integer columns ``source,target`` holding 0-based node ids (rows of the features)
  plus an optional weight column (CSV), or an ``[E, 2]`` / ``[E, 3]`` array (NPY);
* labels / predictions: one integer per line (CSV) or a ``[N]`` array (NPY);
* a whole graph: ``.npz`` with keys ``x`` ``[N, F]``, ``edge_index`` ``[2, E]`` and optionally
  ``edge_weight`` ``[E]`` and ``y`` ``[N]``.

Every problem raises :class:`graphcl.errors.GraphclInputError` naming the file — and for a
CSV the line — at fault.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import torch
from torch_geometric.data import Data

from graphcl.data.edge_list import from_edge_list
from graphcl.data.hetero import _line_of_row
from graphcl.errors import GraphclInputError

PathLike = Union[str, os.PathLike]


def _existing(path: PathLike, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise GraphclInputError(f"{what} file {str(p)!r} does not exist" if not p.exists() else f"{what} {str(p)!r} is not a file")
    return p


def _bad_csv_line(path: Path, columns: Optional[int], integer: bool) -> GraphclInputError:
    """Find the first malformed line of a CSV that numpy refused (a slow scan, on error only)."""
    allowed = None if columns is None else ((columns,) if isinstance(columns, int) else tuple(columns))
    first = None  # every row must have the first row's number of values
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if not text:
                continue
            cells = [c.strip() for c in text.split(",")]
            want = allowed if first is None else (first,)
            if want is not None and len(cells) not in want:
                wanted = " or ".join(map(str, want))
                return GraphclInputError(f"{path}, line {lineno}: expected {wanted} comma-separated values, got {len(cells)}: {text[:80]!r}")
            first = len(cells) if first is None else first
            for cell in cells:
                try:
                    value = float(cell)
                except ValueError:
                    return GraphclInputError(f"{path}, line {lineno}: {cell[:40]!r} is not a number")
                if integer and not value.is_integer():
                    return GraphclInputError(f"{path}, line {lineno}: {cell[:40]!r} is not an integer")
    return GraphclInputError(f"{path}: cannot be read as comma-separated numbers")


def _read_csv(path: Path, what: str, integer: bool = False, columns=None) -> np.ndarray:
    """A headerless CSV of numbers as a 2-D array; errors name the line."""
    if path.stat().st_size == 0:
        raise GraphclInputError(f"{what} file {path} is empty")
    try:
        arr = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        raise _bad_csv_line(path, columns if columns is not None else None, integer) from None
    if arr.size == 0:
        raise GraphclInputError(f"{what} file {path} holds no rows")
    if columns is not None:
        ok = (columns,) if isinstance(columns, int) else columns
        if arr.shape[1] not in ok:
            raise _bad_csv_line(path, columns, integer)
    if integer and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise _bad_csv_line(path, columns, True)
    return arr


def _read_npy(path: Path, what: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise GraphclInputError(f"{what} file {path} is not a readable .npy array ({exc})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise GraphclInputError(f"{what} file {path} must hold a numeric array")
    return arr


def _read_array(path: PathLike, what: str, integer: bool = False, columns=None) -> np.ndarray:
    p = _existing(path, what)
    if p.suffix.lower() == ".npy":
        arr = _read_npy(p, what)
        if integer and arr.dtype.kind == "f":
            raise GraphclInputError(f"{what} file {p} must hold integers, got dtype {arr.dtype}")
        return arr
    return _read_csv(p, what, integer, columns)


def read_features(path: PathLike) -> torch.Tensor:
    """Node features ``[N, F]`` (float32) from a headerless CSV or an ``.npy`` file."""
    p = Path(path).expanduser()
    arr = _read_array(p, "features")
    if arr.ndim != 2 or 0 in arr.shape:
        raise GraphclInputError(f"features file {p} must hold a non-empty 2-D array [N, F], got shape {arr.shape}")
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise GraphclInputError(f"{p}, {_where(p, row)}: the row contains NaN or Inf (features must be finite numbers; "
                                f"{int((~finite).sum())} row(s) affected)")
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def read_edges(path: PathLike) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Edges ``[E, 2]`` (int64) and optional weights ``[E]`` from a CSV or ``.npy`` file with
    two (or three, the last being the weight) columns."""
    p = Path(path).expanduser()
    arr = _read_array(p, "edges", columns=(2, 3))
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise GraphclInputError(f"edges file {p} must have 2 or 3 columns (source, target[, weight]), got shape {arr.shape}")
    ids = arr[:, :2]
    if ids.dtype.kind == "f":
        bad = np.nonzero(~(np.isfinite(ids) & (ids == np.round(ids))).all(axis=1))[0]
        if bad.size:
            raise GraphclInputError(f"{p}, {_where(p, int(bad[0]))}: node ids must be integers, got {ids[bad[0]].tolist()}")
    negative = np.nonzero((ids < 0).any(axis=1))[0]
    if negative.size:
        raise GraphclInputError(f"{p}, {_where(p, int(negative[0]))}: negative node id in "
                                f"{ids[negative[0]].astype(np.int64).tolist()} (node ids are 0-based row numbers of the features)")
    weights = arr[:, 2].astype(np.float32) if arr.shape[1] == 3 else None
    return ids.astype(np.int64), weights


def _where(path: Path, row: int) -> str:
    """``line L`` of a CSV file or ``row R`` of an ``.npy`` array, for an error message."""
    return f"row {row}" if path.suffix.lower() == ".npy" else f"line {_line_of_row(path, row)}"


def _check_ids_in_range(path: PathLike, pairs: np.ndarray, num_nodes: int, features: PathLike) -> None:
    """Every node id of an edges file must be a row of the features file (0-based)."""
    bad = np.nonzero((pairs >= num_nodes).any(axis=1))[0]
    if bad.size:
        p = Path(path).expanduser()
        raise GraphclInputError(f"{p}, {_where(p, int(bad[0]))}: node id {int(pairs[bad[0]].max())} is out of range: "
                                f"the features file {features} has {num_nodes} rows, so node ids are 0..{num_nodes - 1}")


def read_labels(path: PathLike, what: str = "labels") -> np.ndarray:
    """Integer labels ``[N]`` from a one-column CSV (one per line) or a 1-D ``.npy`` file."""
    arr = _read_array(path, what, integer=True, columns=1)
    arr = arr.reshape(-1) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    if arr.ndim != 1:
        raise GraphclInputError(f"{what} file {path} must hold one integer per node, got shape {arr.shape}")
    return arr.astype(np.int64)


def read_graph_npz(path: PathLike) -> Data:
    """A graph from ``.npz`` (keys ``x``, ``edge_index`` ``[2, E]``, optional ``edge_weight``
    and ``y``), validated and symmetrised like :func:`graphcl.data.from_edge_list`."""
    p = _existing(path, "graph")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise GraphclInputError(f"graph file {p} is not a readable .npz archive ({exc})") from None
    missing = [key for key in ("x", "edge_index") if key not in arrays]
    if missing:
        raise GraphclInputError(f"graph file {p} lacks the key(s) {missing} (has {sorted(arrays)})")
    ei = arrays["edge_index"]
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise GraphclInputError(f"graph file {p}: edge_index must have shape [2, E], got {ei.shape}")
    try:
        return from_edge_list(arrays["x"], torch.from_numpy(np.ascontiguousarray(ei)), arrays.get("edge_weight"),
                              y=arrays.get("y"))
    except GraphclInputError as exc:
        raise GraphclInputError(f"graph file {p}: {exc}") from None


def read_user_graph(features: PathLike, edges: PathLike, labels: Optional[PathLike] = None) -> Data:
    """A graph from a features file and an edge file (see the module docstring)."""
    x = read_features(features)
    pairs, weights = read_edges(edges)
    _check_ids_in_range(edges, pairs, x.size(0), features)
    y = read_labels(labels) if labels is not None else None
    try:
        return from_edge_list(x, pairs, weights, y=y)
    except GraphclInputError as exc:
        raise GraphclInputError(f"{edges} / {features}: {exc}") from None
