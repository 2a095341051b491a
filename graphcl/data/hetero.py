r"""Offline loaders for the heterogeneous benchmark graphs (MEOW / HeCo) shipped in ``datasets/``.

:func:`load_hetero_dataset` returns a :class:`torch_geometric.data.HeteroData` built from the
**raw relation files** ``xy.txt`` (two 0-based integer columns, one edge per line):

- node types with full-word names; ``data[t].num_nodes`` is set for every type (counts of
  ``meow.md`` §1.2, checked against every relation id and feature row);
- for every relation file ``xy.txt`` both edge types ``(x, "to", y)`` and ``(y, "to", x)``, each
  an int64 ``edge_index`` ``[2, E]`` without duplicates, sorted by (source, destination);
- ``data[t].x`` (float32, dense) only for the types that have stored features; featureless
  (one-hot in the references) types get **no** ``x``, never a dense identity (``DESIGN.md``
  §5b): the models give them a learnable embedding table;
- on the target type: ``y`` (int64, ``0 .. C-1``) and the boolean split masks
  ``train_mask_{20,40,60}``, ``val_mask_{20,40,60}``, ``test_mask_{20,40,60}`` (20/40/60
  labelled nodes per class for training, 1000 nodes each for validation and test; MEOW's IMDB
  ``train_40.npy``/``train_60.npy`` list 1/5 nodes twice, so those masks hold 119/175 nodes);
- graph-level attributes ``target_node_type`` (str), ``metapaths`` (dict name -> list of edge
  types, e.g. ``{"PAP": [("paper", "to", "author"), ("author", "to", "paper")], ...}``),
  ``num_classes`` (int) and ``name`` (str). PyG's ``data.to(device)`` turns the edge-type tuples
  of ``metapaths`` into lists; :mod:`graphcl.data.metapath` accepts both.

Datasets (sizes from ``meow.md`` §1.2; target type first):

========== =========== ================================================ =======
name       target      other node types                                 classes
========== =========== ================================================ =======
acm        paper 4019  author 7167, subject 60                          3
dblp       author 4057 paper 14328, term 7723, conference 20            4
imdb       movie 4275  actor 5432, director 2083, keyword 7313          3
aminer     paper 6564  author 13329, reference 35890                    4
freebase   movie 3492  director 2502, actor 33401, writer 4459          3
========== =========== ================================================ =======

Features (``features=``; ``None`` = the dataset's default, ``"meow"`` where MEOW's exist):

- ``"meow"``: ACM ``paper`` (``p_feat``, 1902-d) and ``author`` (``a_feat``, 1902-d); DBLP
  ``author`` (``a_feat``, 334-d), ``paper`` (``p_feat``, 4231-d) and ``term`` (``t_feat``, 50-d
  dense vectors); IMDB ``movie`` (``m_feat``, 5927-d). Every matrix is row-normalised as the
  reference's ``preprocess_features`` does (:math:`x_i \leftarrow x_i / \sum_j x_{ij}`, zero
  rows stay zero) except DBLP ``t_feat``, which is used as stored. AMiner's MEOW features
  (64-d pre-trained vectors) are not shipped (``meow.md`` §1.6), and Freebase is HeCo-only:
  ``features="meow"`` raises :class:`GraphclInputError` for both.
- ``"heco"``: only the target type's features (ACM ``paper``, DBLP ``author``; row-normalised);
  every other type is featureless. AMiner and Freebase have no stored features at all (HeCo uses
  one-hot), so no type has ``x``. HeCo has no IMDB: ``"heco"`` there means the same HeCo rule
  (target features only), which equals MEOW's IMDB features (its other types are one-hot).

Dense sizes of the float32 ``x``: ACM 31 MB (paper) + 55 MB (author); DBLP 5 MB (author) +
242 MB (paper) + 1.5 MB (term); IMDB 101 MB (movie). They are stored densely because that is
what the encoders' ``nn.Linear`` projections consume; load them with ``features="heco"`` when
the memory matters.

Files and the MEOW / HeCo dedup rule: the MEOW and HeCo releases share most files byte for byte
(relations, features, labels, splits). ``meow_<name>/`` holds every file the loader reads, and
``heco_<name>/`` holds only the HeCo files that differ from their MEOW twin or exist only in
HeCo (the boolean meta-path matrices ``pap.npz``, ``psp.npz``, ``apa.npz``, ``apcpa.npz``). A
file requested from the HeCo release is looked up in ``heco_<name>/`` first, then in
``meow_<name>/`` (:func:`hetero_file`). Freebase exists only in HeCo (``heco_freebase/``), IMDB
only in MEOW (``meow_imdb/``); AMiner's HeCo files are all identical to MEOW's, so no
``heco_aminer/`` folder is shipped. HeCo's pickled ``nei_*.npy`` and ``pos.npz`` are not shipped
(nothing reads them). A data root (``root``, ``$GRAPHCL_DATA``) is looked up as in
:mod:`graphcl.data.files` and must hold the dataset's MEOW folder (Freebase: its HeCo folder);
``verify=True`` checks each file read against ``checksums.json``.

Loading parses a few small text files and ``.npz`` matrices (well under a second per dataset, no
cache needed); most of the time goes to densifying the feature matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch_geometric.data import HeteroData

from graphcl.data.files import (
    PARSE_ERRORS,
    PathLike,
    corrupt_file_error,
    lookup_dataset,
    resolve_root,
    verify_file,
)
from graphcl.errors import GraphclInputError
from graphcl.validation import check_choice

__all__ = [
    "HeteroDatasetInfo",
    "HETERO_DATASET_INFO",
    "list_hetero_datasets",
    "hetero_dataset_info",
    "hetero_file",
    "load_hetero_dataset",
]

FEATURE_SOURCES = ("meow", "heco")
SPLIT_RATIOS = (20, 40, 60)
_SPLITS = ("train", "val", "test")
_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class HeteroDatasetInfo:
    """Static description of one shipped heterogeneous dataset.

    Attributes:
        name: Name accepted by :func:`load_hetero_dataset`.
        meow_folder: MEOW folder (relative to the data root), or ``None`` (Freebase).
        heco_folder: HeCo folder, or ``None`` (IMDB). It may be absent from a data root when
            every HeCo file is identical to its MEOW twin (AMiner).
        target: Target node type (the labelled one).
        node_types: Node type -> number of nodes, target first.
        relations: ``(file, source type, destination type)`` per relation file.
        metapaths: Meta-path name -> node-type sequence, e.g. ``"PAP": ("paper", "author",
            "paper")``.
        features: Feature source (``"meow"``/``"heco"``) -> node type -> ``(file,
            row_normalise)``. A source missing here is not available for this dataset.
        num_classes: Number of classes ``C``.
        label_offset: Subtracted from the stored labels (IMDB stores 1..3).
        description: One-line description.
    """

    name: str
    meow_folder: Optional[str]
    heco_folder: Optional[str]
    target: str
    node_types: dict[str, int]
    relations: tuple[tuple[str, str, str], ...]
    metapaths: dict[str, tuple[str, ...]]
    features: dict[str, dict[str, tuple[str, bool]]]
    num_classes: int
    label_offset: int = 0
    description: str = field(default="", compare=False)

    @property
    def folder(self) -> str:
        """The folder a data root must hold: the MEOW one, else the HeCo one."""
        return self.meow_folder or self.heco_folder  # type: ignore[return-value]

    @property
    def sources(self) -> tuple[str, ...]:
        """Releases that ship this dataset (``"meow"``, ``"heco"``)."""
        return tuple(s for s, f in (("meow", self.meow_folder), ("heco", self.heco_folder)) if f)

    @property
    def default_features(self) -> str:
        """``"meow"`` where MEOW's features exist, else ``"heco"``."""
        return "meow" if "meow" in self.features else "heco"

    def metapath_edge_types(self) -> dict[str, list[tuple[str, str, str]]]:
        """Meta-paths as lists of edge types ``(src, "to", dst)``."""
        return {
            mp: [(a, "to", b) for a, b in zip(types[:-1], types[1:])]
            for mp, types in self.metapaths.items()
        }

    def files(self, features: str) -> tuple[str, ...]:
        """File names the loader reads with the given feature source."""
        split_files = tuple(f"{s}_{r}.npy" for r in SPLIT_RATIOS for s in _SPLITS)
        feat_files = tuple(f for f, _ in self.features.get(features, {}).values())
        return tuple(r[0] for r in self.relations) + feat_files + ("labels.npy",) + split_files

    def as_dict(self) -> dict:
        """Return the fields as a plain ``dict`` (e.g. for printing or JSON)."""
        return {
            "name": self.name,
            "meow_folder": self.meow_folder,
            "heco_folder": self.heco_folder,
            "target": self.target,
            "node_types": dict(self.node_types),
            "relations": [list(r) for r in self.relations],
            "metapaths": {k: list(v) for k, v in self.metapaths.items()},
            "features": {s: {t: f for t, (f, _) in d.items()} for s, d in self.features.items()},
            "num_classes": self.num_classes,
            "description": self.description,
        }


HETERO_DATASET_INFO: dict[str, HeteroDatasetInfo] = {
    "acm": HeteroDatasetInfo(
        "acm", "meow_acm", "heco_acm", "paper",
        {"paper": 4019, "author": 7167, "subject": 60},
        (("pa.txt", "paper", "author"), ("ps.txt", "paper", "subject")),
        {"PAP": ("paper", "author", "paper"), "PSP": ("paper", "subject", "paper")},
        {
            "meow": {"paper": ("p_feat.npz", True), "author": ("a_feat.npz", True)},
            "heco": {"paper": ("p_feat.npz", True)},
        },
        3, 0,
        "ACM papers (MEOW/HeCo): paper-author, paper-subject; bag-of-words paper features",
    ),
    "dblp": HeteroDatasetInfo(
        "dblp", "meow_dblp", "heco_dblp", "author",
        {"author": 4057, "paper": 14328, "term": 7723, "conference": 20},
        (
            ("pa.txt", "paper", "author"),
            ("pc.txt", "paper", "conference"),
            ("pt.txt", "paper", "term"),
        ),
        {
            "APA": ("author", "paper", "author"),
            "APCPA": ("author", "paper", "conference", "paper", "author"),
            "APTPA": ("author", "paper", "term", "paper", "author"),
        },
        {
            "meow": {
                "author": ("a_feat.npz", True),
                "paper": ("p_feat.npz", True),
                "term": ("t_feat.npz", False),  # dense 50-d vectors, used as stored
            },
            "heco": {"author": ("a_feat.npz", True)},
        },
        4, 0,
        "DBLP authors (MEOW/HeCo): paper-author, paper-conference, paper-term",
    ),
    "imdb": HeteroDatasetInfo(
        "imdb", "meow_imdb", None, "movie",
        {"movie": 4275, "actor": 5432, "director": 2083, "keyword": 7313},
        (
            ("ma.txt", "movie", "actor"),
            ("md.txt", "movie", "director"),
            ("mk.txt", "movie", "keyword"),
        ),
        {
            "MAM": ("movie", "actor", "movie"),
            "MDM": ("movie", "director", "movie"),
            "MKM": ("movie", "keyword", "movie"),
        },
        {"meow": {"movie": ("m_feat.npz", True)}, "heco": {"movie": ("m_feat.npz", True)}},
        3, 1,  # labels.npy stores 1..3
        "IMDB movies (MEOW only): movie-actor, movie-director, movie-keyword",
    ),
    "aminer": HeteroDatasetInfo(
        "aminer", "meow_aminer", "heco_aminer", "paper",
        {"paper": 6564, "author": 13329, "reference": 35890},
        (("pa.txt", "paper", "author"), ("pr.txt", "paper", "reference")),
        {"PAP": ("paper", "author", "paper"), "PRP": ("paper", "reference", "paper")},
        {"heco": {}},  # HeCo: all one-hot (featureless); MEOW's 64-d vectors are not shipped
        4, 0,
        "AMiner papers (MEOW/HeCo): paper-author, paper-reference; no stored features",
    ),
    "freebase": HeteroDatasetInfo(
        "freebase", None, "heco_freebase", "movie",
        {"movie": 3492, "director": 2502, "actor": 33401, "writer": 4459},
        (
            ("ma.txt", "movie", "actor"),
            ("md.txt", "movie", "director"),
            ("mw.txt", "movie", "writer"),
        ),
        {
            "MAM": ("movie", "actor", "movie"),
            "MDM": ("movie", "director", "movie"),
            "MWM": ("movie", "writer", "movie"),
        },
        {"heco": {}},
        3, 0,
        "Freebase movies (HeCo only): movie-actor, movie-director, movie-writer; "
        "no stored features",
    ),
}


def list_hetero_datasets() -> list[str]:
    """Names accepted by :func:`load_hetero_dataset`, in documentation order."""
    return list(HETERO_DATASET_INFO)


def hetero_dataset_info(name: str) -> HeteroDatasetInfo:
    """Return the :class:`HeteroDatasetInfo` of a heterogeneous dataset name.

    Raises:
        GraphclInputError: If the name is unknown (the message lists the known names).
    """
    return lookup_dataset(HETERO_DATASET_INFO, name, "heterogeneous dataset")


# ----------------------------------------------------------------------------------------------
# File lookup (MEOW / HeCo dedup rule)
# ----------------------------------------------------------------------------------------------


def _check_source(info: HeteroDatasetInfo, source: Optional[str], what: str) -> str:
    if source is None:
        return info.default_features
    return check_choice(source, what, (*FEATURE_SOURCES, None))


def _search_folders(info: HeteroDatasetInfo, source: str) -> list[str]:
    """Folders searched for a file of ``source``: HeCo's own, then its MEOW twin."""
    order = [info.meow_folder] if source == "meow" else [info.heco_folder, info.meow_folder]
    return [f for f in order if f]


def _locate(info: HeteroDatasetInfo, fname: str, source: str, data_root: Path) -> tuple[Path, str]:
    """Return ``(path, path relative to the data root)`` of the first folder holding ``fname``."""
    folders = _search_folders(info, source)
    for folder in folders:
        path = data_root / folder / fname
        if path.is_file():
            return path, f"{folder}/{fname}"
    tried = " or ".join(str(data_root / f / fname) for f in folders)
    raise GraphclInputError(f"dataset {info.name!r}: missing file {tried}")


def hetero_file(
    name: str,
    filename: str,
    source: Optional[str] = None,
    root: Optional[PathLike] = None,
    verify: bool = True,
) -> Path:
    """Path of a shipped file of a heterogeneous dataset, by the MEOW / HeCo dedup rule.

    A ``"heco"`` file is looked up in ``heco_<name>/`` first, then in ``meow_<name>/`` (where the
    byte-identical twins live); a ``"meow"`` file only in ``meow_<name>/``. E.g.
    ``hetero_file("acm", "pap.npz", "heco")`` is HeCo's boolean PAP, ``hetero_file("acm",
    "pap.npz")`` MEOW's path counts, and ``hetero_file("aminer", "pap.npz", "heco")`` resolves to
    ``meow_aminer/pap.npz`` (the same bytes as HeCo's).

    Args:
        name: A heterogeneous dataset name (:func:`list_hetero_datasets`).
        filename: File name inside the dataset folder, e.g. ``"pap.npz"``.
        source: ``"meow"`` or ``"heco"``; ``None`` = the dataset's release (MEOW where it
            exists, else HeCo).
        root: Data root, looked up before ``$GRAPHCL_DATA`` and the checkout's ``datasets/``.
        verify: Check the file's sha256 against ``checksums.json``.

    Raises:
        GraphclInputError: Unknown name or source, a release that does not ship this dataset,
            a missing file or a checksum mismatch.
    """
    info = hetero_dataset_info(name)
    src = info.sources[0] if source is None else _check_source(info, source, "source")
    if src not in info.sources:
        raise GraphclInputError(
            f"dataset {info.name!r} is not part of the {src.upper()} release "
            f"(available: {', '.join(info.sources)})"
        )
    data_root = resolve_root(info, root)
    path, rel = _locate(info, filename, src, data_root)
    if verify:
        verify_file(path, rel, data_root)
    return path


# ----------------------------------------------------------------------------------------------
# Parsers (every failure names the file)
# ----------------------------------------------------------------------------------------------


def _line_of_row(path: Path, row: int) -> int:
    """1-based line number of the ``row``-th data line (blank and ``#`` lines are skipped)."""
    seen = -1
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, start=1):
            s = line.strip()
            if s and not s.startswith(b"#"):
                seen += 1
                if seen == row:
                    return lineno
    return row + 1


def _read_relation(path: Path, n_src: int, n_dst: int) -> np.ndarray:
    """Read ``xy.txt`` as int64 pairs ``[E, 2]``, checking every id against the type sizes."""
    try:
        pairs = np.loadtxt(path, dtype=np.int64, ndmin=2)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if pairs.shape[1] != 2:
        raise GraphclInputError(f"{path}: expected two node ids per line, got {pairs.shape[1]}")
    for c, n in ((0, n_src), (1, n_dst)):
        bad = np.flatnonzero((pairs[:, c] < 0) | (pairs[:, c] >= n))
        if bad.size:
            r = int(bad[0])
            raise GraphclInputError(
                f"{path}, line {_line_of_row(path, r)}: id {int(pairs[r, c])} in column {c + 1} "
                f"is out of range [0, {n})"
            )
    return pairs


def _sorted_unique_edges(src: np.ndarray, dst: np.ndarray, n_dst: int) -> torch.Tensor:
    """Deduplicated ``edge_index`` ``[2, E]`` sorted by (src, dst)."""
    keys = np.unique(src * n_dst + dst)  # np.unique sorts; a numpy sort beats a threaded torch one
    return torch.from_numpy(np.stack([keys // n_dst, keys % n_dst]).astype(np.int64, copy=False))


def _read_matrix(path: Path):
    """A ``.npz`` feature file: scipy sparse (``sp.save_npz``) or a plain ``.npy`` array."""
    import scipy.sparse as sp

    try:
        with open(path, "rb") as f:
            magic = f.read(len(_NPY_MAGIC))
        if magic == _NPY_MAGIC:  # DBLP's t_feat.npz is an .npy file under an .npz name
            return np.load(path, allow_pickle=False)
        return sp.load_npz(path)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None


def _read_features(path: Path, num_nodes: int, row_normalise: bool) -> torch.Tensor:
    r"""Dense float32 features ``[N, d]``, optionally row-normalised :math:`x_i / \sum_j x_{ij}`."""
    import scipy.sparse as sp

    m = _read_matrix(path)
    if m.ndim != 2:
        raise GraphclInputError(f"{path}: expected a 2-D feature matrix, got shape {m.shape}")
    if m.shape[0] != num_nodes:
        raise GraphclInputError(f"{path}: {m.shape[0]} feature rows, expected {num_nodes}")
    if sp.issparse(m):
        m = sp.csr_matrix(m, dtype=np.float64)
        m.sum_duplicates()
    else:
        m = np.asarray(m, dtype=np.float64)
    if row_normalise:
        # preprocess_features of the references: rows divided by their sum, zero rows stay zero
        rowsum = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
        inv = np.divide(1.0, rowsum, out=np.zeros_like(rowsum), where=rowsum != 0)
        m = sp.diags(inv) @ m if sp.issparse(m) else m * inv[:, None]
    x = m.astype(np.float32).toarray() if sp.issparse(m) else m.astype(np.float32)
    if not np.isfinite(x).all():
        raise GraphclInputError(f"{path}: features contain NaN or Inf values")
    return torch.from_numpy(np.ascontiguousarray(x))


def _read_index_array(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except PARSE_ERRORS as exc:
        raise corrupt_file_error(path, exc) from None
    if not isinstance(arr, np.ndarray) or arr.ndim != 1:
        shape = getattr(arr, "shape", type(arr).__name__)
        raise GraphclInputError(f"{path}: expected a 1-D array, got {shape}")
    if arr.size and not np.array_equal(arr, np.round(arr)):
        raise GraphclInputError(f"{path}: expected integer values")
    return arr.astype(np.int64)


def _read_labels(path: Path, info: HeteroDatasetInfo) -> torch.Tensor:
    y = _read_index_array(path)  # ACM stores float64 labels
    n = info.node_types[info.target]
    if y.shape[0] != n:
        raise GraphclInputError(f"{path}: {y.shape[0]} labels, expected {n}")
    y = y - info.label_offset
    if y.size and (y.min() < 0 or y.max() >= info.num_classes):
        raise GraphclInputError(
            f"{path}: labels span [{y.min() + info.label_offset}, {y.max() + info.label_offset}], "
            f"expected {info.label_offset}..{info.num_classes - 1 + info.label_offset}"
        )
    return torch.from_numpy(y)


def _read_mask(path: Path, num_nodes: int) -> torch.Tensor:
    idx = _read_index_array(path)
    if idx.size and (idx.min() < 0 or idx.max() >= num_nodes):
        raise GraphclInputError(f"{path}: node index out of range [0, {num_nodes})")
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[torch.from_numpy(idx)] = True
    return mask


# ----------------------------------------------------------------------------------------------
# Loader
# ----------------------------------------------------------------------------------------------


def _check_features(info: HeteroDatasetInfo, features: Optional[str]) -> str:
    source = _check_source(info, features, "features")
    if source not in info.features:
        why = (
            "its MEOW features (64-d pre-trained vectors) are not shipped"
            if info.name == "aminer"
            else f"{source.upper()} has no {info.name} dataset"
        )
        raise GraphclInputError(
            f"dataset {info.name!r}: features={source!r} is not available ({why}); "
            f"use features={info.default_features!r}"
        )
    return source


def load_hetero_dataset(
    name: str,
    features: Optional[str] = None,
    root: Optional[PathLike] = None,
    verify: bool = True,
) -> HeteroData:
    """Load a shipped heterogeneous benchmark graph (see the module docstring for the layout).

    Args:
        name: One of :func:`list_hetero_datasets` (``acm``, ``dblp``, ``imdb``, ``aminer``,
            ``freebase``); case-insensitive.
        features: ``"meow"`` (MEOW's feature sets), ``"heco"`` (target features only) or
            ``None`` (``"meow"`` for acm/dblp/imdb, ``"heco"`` for aminer/freebase, which have
            no MEOW features).
        root: Folder that holds the dataset folders (e.g. ``meow_acm/``). Looked up before
            ``$GRAPHCL_DATA`` and the checkout's ``datasets/``.
        verify: Compare the sha256 of every file read with ``checksums.json``.

    Returns:
        ``HeteroData`` with, per node type ``t``, ``num_nodes`` and (featured types only) ``x``
        float32 ``[N_t, d_t]``; per relation both edge types ``(x, "to", y)``/``(y, "to", x)``
        with int64 ``edge_index`` ``[2, E]``; on the target type ``y`` (int64 ``[N]``) and the
        bool masks ``{train,val,test}_mask_{20,40,60}`` ``[N]``; graph attributes
        ``target_node_type``, ``metapaths``, ``num_classes`` and ``name``.

    Raises:
        GraphclInputError: Unknown name; ``features`` not available for the dataset; no data
            root holds the dataset's folder; a missing file, a checksum mismatch, a file that
            cannot be parsed, has the wrong shape, or holds an out-of-range id (the message
            names the file, and for relation files the line).
    """
    info = hetero_dataset_info(name)
    source = _check_features(info, features)
    data_root = resolve_root(info, root)  # duck-typed: reads info.name and info.folder
    located = {f: _locate(info, f, source, data_root) for f in info.files(source)}
    if verify:
        for path, rel in located.values():
            verify_file(path, rel, data_root)
    path = {f: p for f, (p, _) in located.items()}

    data = HeteroData()
    for t, n in info.node_types.items():
        data[t].num_nodes = n
    for t, (fname, normalise) in info.features[source].items():
        data[t].x = _read_features(path[fname], info.node_types[t], normalise)
    for fname, s, d in info.relations:
        n_s, n_d = info.node_types[s], info.node_types[d]
        pairs = _read_relation(path[fname], n_s, n_d)
        data[s, "to", d].edge_index = _sorted_unique_edges(pairs[:, 0], pairs[:, 1], n_d)
        data[d, "to", s].edge_index = _sorted_unique_edges(pairs[:, 1], pairs[:, 0], n_s)

    target = data[info.target]
    target.y = _read_labels(path["labels.npy"], info)
    n = info.node_types[info.target]
    for r in SPLIT_RATIOS:
        for s in _SPLITS:
            target[f"{s}_mask_{r}"] = _read_mask(path[f"{s}_{r}.npy"], n)

    data.target_node_type = info.target
    data.metapaths = info.metapath_edge_types()
    data.num_classes = int(info.num_classes)
    data.name = info.name
    return data
