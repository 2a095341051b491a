"""Offline loaders for the homogeneous benchmark graphs shipped in ``datasets/``.

Every loader returns a :class:`torch_geometric.data.Data` with

- ``x``: float32 node features ``[N, d]`` (as stored: no normalisation),
- ``edge_index``: long ``[2, E]``, undirected (each edge stored in both directions),
  coalesced (sorted, no duplicates) and **without self-loops** (the graph ops add them),
- ``y``: long labels ``[N]`` in ``0 .. num_classes - 1``,
- ``num_classes`` (int) and ``name`` (str).

Dataset names (``DESIGN.md`` §5b):

========== ==================== ====== ====== ======= ===========================================
name       folder               N      d      classes graph
========== ==================== ====== ====== ======= ===========================================
usps       ``sdcn_usps/``       9298   256    10      ``usps3_graph.txt`` (directed 3-NN list),
                                                      symmetrised: ``max(A, A^T)``
acm        ``sdcn_acm/``        3025   1870   3       ``acm_graph.txt`` (native)
dblp       ``sdcn_dblp/``       4057   334    4       ``dblp_graph.txt`` (native)
cite       ``sdcn_cite/``       3327   3703   6       ``cite_graph.txt`` (native; labels 1..6 -> 0..5)
citeseer   ``citeseer/``        3327   3703   6       Planetoid ``ind.citeseer.*`` (same graph as
                                                      ``cite``; x unnormalised 0/1)
cora       ``cora/``            2708   1433   7       Planetoid ``ind.cora.*``
photo      ``amazon_photo/``    7650   745    8       gnn-benchmark ``amazon_electronics_photo.npz``
========== ==================== ====== ====== ======= ===========================================

Data lookup: the ``root`` argument, then ``$GRAPHCL_DATA``, then the checkout's ``datasets/``
folder (``Path(graphcl.__file__).parents[1] / "datasets"``); the first of these that holds the
dataset's folder is used. A ``root`` or ``$GRAPHCL_DATA`` that is not an existing directory is an
error (a typo should not silently fall through to another copy of the data). The lookup and the
checksums live in :mod:`graphcl.data.files`, shared with :mod:`graphcl.data.hetero`.

Integrity: with ``verify=True`` (the default) the sha256 of every file read is compared with
``checksums.json`` (the checkout's ``datasets/checksums.json`` first, then a ``checksums.json``
at the data root in use). Hashes are memoised per (path, mtime, size) within the process, so
repeated loads do not re-hash.

Speed: parsing the SDCN ``*.txt.gz`` feature text is the slow part (USPS about 0.7 s, Citeseer
about 3 s), so the parsed float32 matrix is cached as ``.npy`` in ``$GRAPHCL_CACHE/datasets/``
(default ``~/.cache/graphcl/datasets/``), keyed by the sha256 of the source file: a cache entry
is only ever used for a source file with exactly that hash. The loaders never write into the
data folder; Planetoid files are parsed directly (no PyG ``processed/`` folder is created).
"""

from __future__ import annotations

import itertools
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch_geometric.data import Data

from graphcl.data.files import (
    ENV_CACHE,
    PARSE_ERRORS,
    PathLike,
    corrupt_file_error,
    default_data_root,
    lookup_dataset,
    resolve_root,
    sha256_file,
    verify_file,
)
from graphcl.errors import GraphclInputError

__all__ = [
    "DatasetInfo",
    "DATASET_INFO",
    "list_datasets",
    "dataset_info",
    "load_dataset",
    "default_data_root",
    "cache_dir",
]

_CACHE_FORMAT = "v1"


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of one shipped dataset.

    Attributes:
        name: Name accepted by :func:`load_dataset`.
        folder: Folder (relative to the data root) that holds the files.
        files: File names (inside ``folder``) that the loader reads.
        fmt: File format: ``"sdcn"``, ``"planetoid"`` or ``"npz"``.
        num_nodes: Number of nodes ``N``.
        num_features: Feature dimension ``d``.
        num_classes: Number of classes.
        num_edges: Number of undirected edges, without self-loops and duplicates
            (``edge_index`` holds twice as many columns).
        description: One-line description (source, graph construction).
    """

    name: str
    folder: str
    files: tuple[str, ...]
    fmt: str
    num_nodes: int
    num_features: int
    num_classes: int
    num_edges: int
    description: str

    def as_dict(self) -> dict:
        """Return the fields as a plain ``dict`` (e.g. for printing or JSON)."""
        return {
            "name": self.name,
            "folder": self.folder,
            "files": list(self.files),
            "format": self.fmt,
            "num_nodes": self.num_nodes,
            "num_features": self.num_features,
            "num_classes": self.num_classes,
            "num_edges": self.num_edges,
            "description": self.description,
        }


def _planetoid_files(prefix: str) -> tuple[str, ...]:
    return tuple(
        f"ind.{prefix}.{s}" for s in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
    )


DATASET_INFO: dict[str, DatasetInfo] = {
    "usps": DatasetInfo(
        "usps", "sdcn_usps", ("usps.txt.gz", "usps_label.txt", "usps3_graph.txt"), "sdcn",
        9298, 256, 10, 21452,
        "USPS digits (SDCN): 16x16 grey levels in [0, 1]; graph = SDCN's heat-kernel 3-NN list "
        "usps3_graph.txt symmetrised as max(A, A^T)",
    ),
    "acm": DatasetInfo(
        "acm", "sdcn_acm", ("acm.txt.gz", "acm_label.txt", "acm_graph.txt"), "sdcn",
        3025, 1870, 3, 13128,
        "ACM-3025 papers (SDCN): bag-of-words features, same-author paper graph",
    ),
    "dblp": DatasetInfo(
        "dblp", "sdcn_dblp", ("dblp.txt.gz", "dblp_label.txt", "dblp_graph.txt"), "sdcn",
        4057, 334, 4, 3528,
        "DBLP-4057 authors (SDCN): bag-of-words features, co-author graph",
    ),
    "cite": DatasetInfo(
        "cite", "sdcn_cite", ("cite.txt.gz", "cite_label.txt", "cite_graph.txt"), "sdcn",
        3327, 3703, 6, 4552,
        "CiteSeer (SDCN files): 0/1 word features, citation graph; labels 1..6 shifted to 0..5",
    ),
    "citeseer": DatasetInfo(
        "citeseer", "citeseer", _planetoid_files("citeseer"), "planetoid",
        3327, 3703, 6, 4552,
        "CiteSeer (Planetoid raw files): same graph, features and labels as 'cite'",
    ),
    "cora": DatasetInfo(
        "cora", "cora", _planetoid_files("cora"), "planetoid",
        2708, 1433, 7, 5278,
        "Cora (Planetoid raw files): 0/1 word features, citation graph",
    ),
    "photo": DatasetInfo(
        "photo", "amazon_photo", ("amazon_electronics_photo.npz",), "npz",
        7650, 745, 8, 119081,
        "Amazon Photo (gnn-benchmark npz): 0/1 bag-of-words of reviews, co-purchase graph",
    ),
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`, in documentation order."""
    return list(DATASET_INFO)


def dataset_info(name: str) -> DatasetInfo:
    """Return the :class:`DatasetInfo` of a dataset name.

    Raises:
        GraphclInputError: If the name is unknown (the message lists the known names).
    """
    return lookup_dataset(DATASET_INFO, name, "dataset")


# ----------------------------------------------------------------------------------------------
# Locations
# ----------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Folder for parsed-array caches: ``$GRAPHCL_CACHE/datasets`` or ``~/.cache/graphcl/datasets``.

    ``$XDG_CACHE_HOME`` replaces ``~/.cache`` when set and ``$GRAPHCL_CACHE`` is not.
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "graphcl"
    return base / "datasets"


# ----------------------------------------------------------------------------------------------
# Parsed-array cache (keyed by the source file's sha256)
# ----------------------------------------------------------------------------------------------


def _cached_parse(path: Path, tag: str, parse: Callable[[Path], np.ndarray]) -> np.ndarray:
    """Parse ``path`` with ``parse``, or read the result cached for this exact file content.

    The cache key is the sha256 of the source file, so a changed source never hits an old
    entry. A cache that cannot be read or written is ignored (the file is parsed).
    """
    digest = sha256_file(path)
    folder = cache_dir()
    entry = folder / f"{digest}.{tag}.{_CACHE_FORMAT}.npy"
    if entry.is_file():
        try:
            arr = np.load(entry, allow_pickle=False)
            if arr.dtype == np.float32 and arr.ndim == 2:
                return arr
        except (OSError, ValueError, EOFError):
            pass
    arr = parse(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{digest[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, arr, allow_pickle=False)
            os.replace(tmp, entry)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        pass
    return arr


# ----------------------------------------------------------------------------------------------
# Parsers (every failure names the file)
# ----------------------------------------------------------------------------------------------

def _parse_float_text(path: Path) -> np.ndarray:
    try:
        arr = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None
    return arr.astype(np.float32)


def _read_int_text(path: Path, ndmin: int) -> np.ndarray:
    try:
        arr = np.loadtxt(path, dtype=np.int64, ndmin=ndmin)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None
    return arr


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for the Planetoid files: only numpy arrays, scipy CSR matrices, dicts, lists."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("scipy.sparse.csr", "csr_matrix"),
        ("scipy.sparse._csr", "csr_matrix"),
        ("collections", "defaultdict"),
        ("__builtin__", "list"),
        ("builtins", "list"),
    }

    def find_class(self, module: str, name: str):  # noqa: D401
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path):
    import warnings

    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _RestrictedUnpickler(f, encoding="latin1").load()
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None


def _dense(obj, path: Path, ndim: int = 2) -> np.ndarray:
    arr = obj.toarray() if hasattr(obj, "toarray") else obj
    if not isinstance(arr, np.ndarray) or arr.ndim != ndim:
        raise GraphclInputError(f"cannot parse {path}: expected a {ndim}-D array or sparse matrix")
    return arr


def _check_rows(arr: np.ndarray, n: int, path: Path, what: str) -> None:
    if arr.shape[0] != n:
        raise GraphclInputError(f"{path}: {arr.shape[0]} {what}, expected {n}")


def _edges_from_pairs(pairs: np.ndarray, n: int, path: Path) -> torch.Tensor:
    """Directed pairs ``[E, 2]`` -> undirected, coalesced, self-loop-free ``edge_index``."""
    if pairs.ndim != 2 or (pairs.shape[1] != 2 and pairs.size > 0):
        raise GraphclInputError(f"{path}: expected two node ids per line, got shape {pairs.shape}")
    pairs = pairs.reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise GraphclInputError(
            f"{path}: node ids must lie in [0, {n}), found range [{pairs.min()}, {pairs.max()}]"
        )
    row, col = pairs[:, 0], pairs[:, 1]
    keep = row != col  # no self-loops: the graph ops add them
    row, col = row[keep], col[keep]
    # max(A, A^T), coalesced and sorted by (row, col) like torch_geometric.utils.to_undirected;
    # a numpy sort is used because a threaded torch.sort is slow on a busy machine.
    keys = np.sort(np.concatenate([row * n + col, col * n + row]))
    first = np.ones(keys.shape[0], dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    keys = keys[first]  # unique
    edge_index = np.stack([keys // n, keys % n], axis=0)
    return torch.from_numpy(np.ascontiguousarray(edge_index, dtype=np.int64))


def _load_sdcn(info: DatasetInfo, folder: Path) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
    feat_path, label_path, graph_path = (folder / f for f in info.files)
    x = _cached_parse(feat_path, "f32", _parse_float_text)
    y = _read_int_text(label_path, ndmin=1)
    if y.ndim != 1:
        raise GraphclInputError(f"{label_path}: expected one label per line, got shape {y.shape}")
    n = info.num_nodes
    _check_rows(x, n, feat_path, "feature rows")
    _check_rows(y, n, label_path, "labels")
    if info.name == "cite":
        y = y - 1  # SDCN's cite labels are 1..6
    edge_index = _edges_from_pairs(_read_int_text(graph_path, ndmin=2), n, graph_path)
    return x, edge_index, y


def _load_planetoid(info: DatasetInfo, folder: Path) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
    """Assemble a Planetoid graph as ``torch_geometric.io.read_planetoid_data`` does."""
    prefix = info.folder
    path = {s: folder / f"ind.{prefix}.{s}" for s in ("x", "tx", "allx", "y", "ty", "ally", "graph")}
    allx = _dense(_unpickle(path["allx"]), path["allx"])
    tx = _dense(_unpickle(path["tx"]), path["tx"])
    ally = _dense(_unpickle(path["ally"]), path["ally"])
    ty = _dense(_unpickle(path["ty"]), path["ty"])
    graph = _unpickle(path["graph"])
    # x and y (the labelled training rows) are the first rows of allx/ally: read to verify parse
    _dense(_unpickle(path["x"]), path["x"])
    _dense(_unpickle(path["y"]), path["y"])
    test_path = folder / f"ind.{prefix}.test.index"
    test_index = _read_int_text(test_path, ndmin=1)
    if test_index.ndim != 1 or test_index.size == 0:
        raise GraphclInputError(f"{test_path}: expected one node index per line")
    sorted_test = np.sort(test_index)
    if tx.shape[0] != ty.shape[0]:
        raise GraphclInputError(f"{path['tx']} and {path['ty']} have different row counts")

    if prefix == "citeseer":
        # Isolated test nodes are missing from tx/ty: insert zero rows (as PyG does).
        span = int(test_index.max() - test_index.min()) + 1
        tx_ext = np.zeros((span, tx.shape[1]), dtype=tx.dtype)
        ty_ext = np.zeros((span, ty.shape[1]), dtype=ty.dtype)
        tx_ext[sorted_test - test_index.min()] = tx
        ty_ext[sorted_test - test_index.min()] = ty
        tx, ty = tx_ext, ty_ext

    x = np.concatenate([allx, tx], axis=0).astype(np.float32)
    onehot = np.concatenate([ally, ty], axis=0)
    n = info.num_nodes
    _check_rows(x, n, path["allx"], "feature rows (allx + tx)")
    _check_rows(onehot, n, path["ally"], "label rows (ally + ty)")
    if test_index.max() >= n or test_index.min() < 0:
        raise GraphclInputError(f"{test_path}: test index out of range [0, {n})")
    x[test_index] = x[sorted_test]
    y = onehot.argmax(axis=1)
    y[test_index] = y[sorted_test]

    if not isinstance(graph, dict):
        raise GraphclInputError(f"cannot parse {path['graph']}: expected a dict of adjacency lists")
    try:
        rows = np.fromiter(
            itertools.chain.from_iterable(itertools.repeat(int(k), len(v)) for k, v in graph.items()),
            dtype=np.int64,
        )
        cols = np.fromiter(itertools.chain.from_iterable(graph.values()), dtype=np.int64)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path["graph"], exc) from None
    edge_index = _edges_from_pairs(np.stack([rows, cols], axis=1), n, path["graph"])
    return x, edge_index, y


def _load_npz(info: DatasetInfo, folder: Path) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
    """Read a gnn-benchmark ``.npz`` as ``torch_geometric.io.read_npz`` does (no pickles)."""
    import scipy.sparse as sp

    path = folder / info.files[0]
    try:
        with np.load(path, allow_pickle=False) as f:
            attr = sp.csr_matrix(
                (f["attr_data"], f["attr_indices"], f["attr_indptr"]), shape=tuple(f["attr_shape"])
            )
            adj = sp.csr_matrix(
                (f["adj_data"], f["adj_indices"], f["adj_indptr"]), shape=tuple(f["adj_shape"])
            ).tocoo()
            y = np.asarray(f["labels"])
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None
    x = attr.toarray().astype(np.float32)
    x[x > 0] = 1.0  # as PyG's read_npz (the shipped attributes are already 0/1)
    n = info.num_nodes
    _check_rows(x, n, path, "feature rows")
    _check_rows(y, n, path, "labels")
    pairs = np.stack([adj.row, adj.col], axis=1).astype(np.int64)
    edge_index = _edges_from_pairs(pairs, n, path)
    return x, edge_index, y


_LOADERS = {"sdcn": _load_sdcn, "planetoid": _load_planetoid, "npz": _load_npz}


def load_dataset(
    name: str, root: Optional[PathLike] = None, verify: bool = True
) -> Data:
    """Load a shipped benchmark graph.

    Args:
        name: One of :func:`list_datasets` (``usps``, ``acm``, ``dblp``, ``cite``, ``citeseer``,
            ``cora``, ``photo``); case-insensitive.
        root: Folder that holds the dataset folders (e.g. ``sdcn_usps/``). Looked up before
            ``$GRAPHCL_DATA`` and the checkout's ``datasets/``.
        verify: Compare the sha256 of every file read with ``checksums.json`` (memoised per
            path, mtime and size, so repeated loads are cheap).

    Returns:
        ``Data`` with ``x`` (float32 ``[N, d]``), ``edge_index`` (long ``[2, E]``, undirected:
        both directions, coalesced, no self-loops; ``E = 2 * num_edges`` of
        :data:`DATASET_INFO`), ``y`` (long ``[N]``, 0-based), ``num_classes`` (int) and
        ``name`` (str).

    Raises:
        GraphclInputError: Unknown name (the message lists the known names); no data root holds
            the dataset's folder (the message names ``$GRAPHCL_DATA``); a missing file, a
            checksum mismatch, or a file that cannot be parsed or has the wrong shape (the
            message names the file).
    """
    info = dataset_info(name)
    data_root = resolve_root(info, root)
    folder = data_root / info.folder
    for fname in info.files:
        path = folder / fname
        if not path.is_file():
            raise GraphclInputError(f"dataset {info.name!r}: missing file {path}")
    if verify:
        for fname in info.files:
            verify_file(folder / fname, f"{info.folder}/{fname}", data_root)

    x_np, edge_index, y_np = _LOADERS[info.fmt](info, folder)

    first = folder / (f"ind.{info.folder}.allx" if info.fmt == "planetoid" else info.files[0])
    if x_np.ndim != 2 or x_np.shape[1] != info.num_features:
        raise GraphclInputError(
            f"{first}: features have shape {x_np.shape}, expected [{info.num_nodes}, {info.num_features}]"
        )
    if not np.isfinite(x_np).all():
        raise GraphclInputError(f"{first}: features contain NaN or Inf values")
    y_np = np.asarray(y_np).astype(np.int64, copy=False)
    if y_np.size and (y_np.min() < 0 or y_np.max() >= info.num_classes):
        label_file = folder / {"sdcn": info.files[1], "planetoid": f"ind.{info.folder}.ally"}.get(
            info.fmt, info.files[0]
        )
        raise GraphclInputError(
            f"{label_file}: labels span [{y_np.min()}, {y_np.max()}], expected 0..{info.num_classes - 1}"
        )

    data = Data(
        x=torch.from_numpy(np.ascontiguousarray(x_np, dtype=np.float32)),
        edge_index=edge_index,
        y=torch.from_numpy(np.ascontiguousarray(y_np)),
    )
    data.num_classes = int(info.num_classes)
    data.name = info.name
    return data

