"""ogbn node-property graphs (arxiv, products, papers100M) from files the user already has.

Nothing is downloaded. Put the dataset folder exactly as OGB writes it (for example
``ogbn_arxiv/`` holding ``raw/`` and ``split/``, as ``ogb.nodeproppred.NodePropPredDataset``
leaves it after a download on a machine with network) under ``root``: the ``root`` argument,
else ``$GRAPHCL_OGB_ROOT``, else the checkout's ``datasets/ogb/``.

The ``ogb`` extra (``pip install graphcl[ogb]``) is imported lazily, only to parse the raw CSV
files (``ogb.io.read_graph_raw.read_csv_graph_raw``). ogb 1.3.6's dataset classes are bypassed on purpose
(DESIGN §6): on torch ≥ 2.6 its PyG loader cannot unpickle its own cache, its plain loader fails
on the cached second load, and both call ``input()`` when ``RELEASE_v*.txt`` is missing.

The first load converts the raw files into ``.npy`` arrays in ``<dataset>/graphcl_cache/``;
later loads memory-map them (``x``, ``edge_index`` and ``y`` are then read-only views of the
files, paged in as used). papers100M's binary ``raw/data.npz`` is streamed member by member into
that cache, so its 111 M × 128 features are never held in memory whole; the conversion stops
with a clear error when the disk lacks room, and :func:`load_ogb` with ``in_memory=True`` stops
before reading when the machine lacks the memory.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch_geometric.data import Data

from graphcl.data.files import default_data_root
from graphcl.errors import GraphclInputError

ENV_OGB_ROOT = "GRAPHCL_OGB_ROOT"
OGB_NODE_DATASETS = {  # name -> (folder, split folder, binary raw format)
    "ogbn-arxiv": ("ogbn_arxiv", "time", False),
    "ogbn-products": ("ogbn_products", "sales_ranking", False),
    "ogbn-papers100M": ("ogbn_papers100M", "time", True),
}
_CACHE_VERSION = "1"

__all__ = ["OGB_NODE_DATASETS", "load_ogb"]


def _root(root) -> Path:
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_OGB_ROOT)
    if env:
        return Path(env).expanduser()
    return default_data_root() / "ogb"


def _available_memory_bytes() -> Optional[int]:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _import_ogb_io():
    os.environ.setdefault("OUTDATED_IGNORE", "1")  # ogb otherwise checks its version online
    try:
        from ogb.io.read_graph_raw import read_csv_graph_raw
    except ImportError:
        raise GraphclInputError("reading OGB raw files needs the ogb extra: pip install 'graphcl[ogb]'") from None
    return read_csv_graph_raw


def _read_split(split_dir: Path) -> Dict[str, np.ndarray]:
    import pandas as pd

    out = {}
    for key, fname in (("train", "train"), ("valid", "valid"), ("test", "test")):
        path = split_dir / f"{fname}.csv.gz"
        if not path.is_file():
            raise GraphclInputError(f"OGB split file missing: {path}")
        out[key] = pd.read_csv(path, compression="gzip", header=None).values.T[0].astype(np.int64)
    return out


def _stream_npz_member(npz: Path, member: str, dest: Path) -> None:
    """Copy one array of an ``.npz`` to ``dest`` (``.npy``) without loading it into memory."""
    with zipfile.ZipFile(npz) as zf:
        name = member + ".npy"
        if name not in zf.namelist():
            raise GraphclInputError(f"{npz} has no array {member!r} (has {sorted(n[:-4] for n in zf.namelist())})")
        need = zf.getinfo(name).file_size
        free = shutil.disk_usage(dest.parent).free
        if need > free:
            raise GraphclInputError(f"converting {npz}:{member} needs {need / 2**30:.1f} GiB of disk in {dest.parent}, "
                                    f"only {free / 2**30:.1f} GiB free")
        tmp = dest.with_name(dest.name + ".tmp")
        with zf.open(name) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, length=64 * 2**20)
        os.replace(tmp, dest)


def _convert(folder: Path, split: str, binary: bool, cache: Path) -> None:
    raw = folder / "raw"
    cache.mkdir(exist_ok=True)
    if binary:
        data_npz, label_npz = raw / "data.npz", raw / "node-label.npz"
        for path in (data_npz, label_npz):
            if not path.is_file():
                raise GraphclInputError(f"OGB raw file missing: {path}")
        _stream_npz_member(data_npz, "node_feat", cache / "x.npy")
        _stream_npz_member(data_npz, "edge_index", cache / "edge_index.npy")
        _stream_npz_member(label_npz, "node_label", cache / "y_raw.npy")
        y = np.load(cache / "y_raw.npy", mmap_mode="r").reshape(-1)
    else:
        read_csv_graph_raw = _import_ogb_io()
        for name in ("edge.csv.gz", "num-node-list.csv.gz", "num-edge-list.csv.gz", "node-label.csv.gz"):
            if not (raw / name).is_file():
                raise GraphclInputError(f"OGB raw file missing: {raw / name}")
        graph = read_csv_graph_raw(str(raw), add_inverse_edge=False)[0]
        if graph.get("node_feat") is None:
            raise GraphclInputError(f"{raw} has no node-feat.csv.gz: graphcl's encoders need node features")
        np.save(cache / "x.npy", np.ascontiguousarray(graph["node_feat"], dtype=np.float32))
        np.save(cache / "edge_index.npy", np.ascontiguousarray(graph["edge_index"], dtype=np.int64))
        import pandas as pd

        y = pd.read_csv(raw / "node-label.csv.gz", compression="gzip", header=None).values.reshape(-1)
    # Unlabelled nodes (NaN in papers100M) get -1.
    y = np.asarray(y, dtype=np.float64)
    np.save(cache / "y.npy", np.where(np.isnan(y), -1, y).astype(np.int64))
    (cache / "y_raw.npy").unlink(missing_ok=True)
    for key, idx in _read_split(folder / "split" / split).items():
        np.save(cache / f"split_{key}.npy", idx)
    (cache / "VERSION").write_text(_CACHE_VERSION)


def load_ogb(name: str, root: Optional[Union[str, os.PathLike]] = None, in_memory: bool = False) -> Data:
    """Load an ogbn node-property graph from local files (never downloads).

    Args:
        name: ``"ogbn-arxiv"``, ``"ogbn-products"`` or ``"ogbn-papers100M"``.
        root: Folder holding OGB's dataset folder (see the module docstring for the default).
        in_memory: Copy the arrays into memory instead of memory-mapping them (checked against
            the available memory first).

    Returns:
        ``Data`` with ``x`` (float ``[N, d]``), ``edge_index`` (long ``[2, E]``, as OGB stores
        it: arxiv and papers100M are directed, graphcl's ops symmetrise), ``y`` (long ``[N]``,
        ``-1`` where unlabelled), ``num_classes``, ``split_idx`` (dict of ``train``/``valid``/
        ``test`` index tensors) and ``name``.

    Raises:
        GraphclInputError: Unknown name, a missing folder or file (named, with where to put
            it), a missing ``ogb`` extra, or too little memory/disk.
    """
    if name not in OGB_NODE_DATASETS:
        raise GraphclInputError(f"unknown OGB dataset {name!r}; known: {', '.join(OGB_NODE_DATASETS)}")
    folder_name, split, binary = OGB_NODE_DATASETS[name]
    folder = _root(root) / folder_name
    if not (folder / "raw").is_dir():
        raise GraphclInputError(
            f"{name} not found: expected OGB's folder {folder} with raw/ and split/ inside. graphcl never "
            f"downloads; fetch it on a machine with network (ogb.nodeproppred.NodePropPredDataset('{name}', "
            f"root=...)) and copy the '{folder_name}' folder there, or pass root= / set ${ENV_OGB_ROOT}."
        )
    cache = folder / "graphcl_cache"
    if not ((cache / "VERSION").is_file() and (cache / "VERSION").read_text() == _CACHE_VERSION):
        _convert(folder, split, binary, cache)
    arrays = {key: np.load(cache / f"{key}.npy", mmap_mode="r") for key in ("x", "edge_index", "y")}
    if in_memory:
        need = sum(a.nbytes for a in arrays.values())
        avail = _available_memory_bytes()
        if avail is not None and need > avail:
            raise GraphclInputError(f"{name} needs {need / 2**30:.1f} GiB in memory, only {avail / 2**30:.1f} GiB "
                                    "available: load it memory-mapped (in_memory=False)")
        arrays = {k: np.array(a) for k, a in arrays.items()}
    import warnings

    with warnings.catch_warnings():  # read-only memory maps: torch warns that writes would fail
        warnings.simplefilter("ignore", UserWarning)
        x = torch.from_numpy(arrays["x"])
        edge_index = torch.from_numpy(arrays["edge_index"])
        y = torch.from_numpy(arrays["y"])
    if edge_index.dim() == 2 and edge_index.size(0) != 2 and edge_index.size(1) == 2:
        edge_index = edge_index.t()
    split_idx = {k: torch.from_numpy(np.load(cache / f"split_{k}.npy")) for k in ("train", "valid", "test")}
    data = Data(x=x, edge_index=edge_index, y=y)
    data.num_classes = int(y.max()) + 1 if y.numel() else 0
    data.split_idx = split_idx
    data.name = name
    return data
