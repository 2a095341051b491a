"""Save and load a homogeneous graph (``x``, ``edge_index``, optional ``y``/``edge_weight``).

One ``torch.save`` file per graph, read back with ``weights_only=True`` (no pickle code runs)
and memory-mapped by default, so a process that loads a 10⁶-node graph pays for the pages it
touches rather than a full copy first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import torch
from torch_geometric.data import Data

from graphcl.errors import GraphclInputError
from graphcl.validation import check_edge_index, check_features

FORMAT = "graphcl-graph-v1"
_TENSORS = ("x", "edge_index", "edge_weight", "y")

__all__ = ["load_graph", "save_graph"]


def save_graph(data: Data, path: Union[str, os.PathLike]) -> Path:
    """Write ``data`` (``x``, ``edge_index`` and, when present, ``edge_weight``, ``y``,
    ``num_classes``) to ``path``, atomically (a temporary file, then a rename).

    Returns:
        The path written.
    """
    path = Path(path)
    x = check_features(data.x, "x")
    record = {"format": FORMAT, "x": x.contiguous(), "edge_index": check_edge_index(data.edge_index, x.size(0)).contiguous()}
    for key in ("edge_weight", "y"):
        value = getattr(data, key, None)
        if value is not None:
            record[key] = value.contiguous()
    if getattr(data, "num_classes", None) is not None:
        record["num_classes"] = int(data.num_classes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(record, tmp)
    os.replace(tmp, path)
    return path


def load_graph(path: Union[str, os.PathLike], mmap: bool = True) -> Data:
    """Read a graph written by :func:`save_graph`.

    Args:
        path: The file.
        mmap: Memory-map the tensors instead of reading them into memory.

    Raises:
        GraphclInputError: The file is missing, unreadable, or not a graphcl graph (the
            message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise GraphclInputError(f"graph file not found: {path}")
    try:
        record = torch.load(path, mmap=mmap, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises several types for a damaged file
        raise GraphclInputError(f"cannot read graph file {path}: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise GraphclInputError(f"{path} is not a graphcl graph file (format {FORMAT!r})")
    data = Data(**{k: record[k] for k in _TENSORS if k in record})
    if "num_classes" in record:
        data.num_classes = record["num_classes"]
    return data
