"""Build a validated PyG ``Data`` from a user's own edge list."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected
from torch_geometric.utils import remove_self_loops as _remove_self_loops

from graphcl.errors import GraphclInputError
from graphcl.validation import check_edge_index, check_edge_weight, check_features, check_int

__all__ = ["from_edge_list"]

ArrayLike = Union[Tensor, np.ndarray, Sequence[Any]]


def _as_tensor(value: ArrayLike, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise GraphclInputError(f"{name} cannot be converted to an array: {exc}") from None
    if arr.dtype == object:
        raise GraphclInputError(f"{name} must be a rectangular numeric array, got ragged/object data")
    if arr.dtype.kind not in "biufc":
        raise GraphclInputError(f"{name} must be numeric, got dtype {arr.dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr))


def _edges_to_index(edges: ArrayLike) -> Tensor:
    """Return a ``[2, E]`` tensor from ``[E, 2]`` or ``[2, E]`` input.

    Only a ``2 x 2`` input is ambiguous; it is read in the convention of its type: a torch
    tensor as PyG's ``edge_index`` ``[2, E]``, a list or numpy array as a list of pairs
    ``[E, 2]`` (what ``np.loadtxt`` of an edge file gives).
    """
    is_tensor = isinstance(edges, Tensor)
    e = _as_tensor(edges, "edges")
    if e.numel() == 0:
        return torch.empty(2, 0, dtype=torch.long)  # an empty list of any dtype is no edges
    if e.dim() != 2 or 2 not in e.shape:
        raise GraphclInputError(
            f"edges must have shape [num_edges, 2] or [2, num_edges], got {tuple(e.shape)}"
        )
    pairs_layout = e.size(0) != 2 or (e.size(1) == 2 and not is_tensor)
    if pairs_layout:  # [E, 2]
        e = e.t()
    return e.contiguous()


def from_edge_list(
    x: Optional[ArrayLike],
    edges: ArrayLike,
    edge_weight: Optional[ArrayLike] = None,
    num_nodes: Optional[int] = None,
    undirected: bool = True,
    *,
    y: Optional[ArrayLike] = None,
    remove_self_loops: bool = True,
) -> Data:
    """Build a graph for graphcl from features and an edge list.

    Args:
        x: Node features ``[N, d]`` (tensor, array or nested list; integer/bool input becomes
            float32). ``None`` for a featureless graph (then ``num_nodes`` is required).
        edges: Edge list ``[E, 2]`` (one ``(source, target)`` pair per row) or ``[2, E]``
            (PyG's ``edge_index``), as a tensor, numpy array or nested list. The layout is
            read from the shape; only for ``E = 2`` (a ``2 x 2`` input) does the type decide:
            a torch tensor is read as ``[2, E]`` (PyG convention), a list or numpy array as
            ``[E, 2]`` (a list of pairs). Integer node ids in ``[0, N)``; floating ids are
            rejected.
        edge_weight: Optional non-negative finite weights ``[E]``, one per input edge.
        num_nodes: Number of nodes. Defaults to ``x.size(0)``; must equal it when both are
            given.
        undirected: If ``True`` (default) the graph is symmetrised: both ``(i, j)`` and
            ``(j, i)`` are stored, with weight ``max(w_ij, w_ji)`` (``max(A, A^T)``). If
            ``False`` the edges keep their direction.
        y: Optional integer node labels ``[N]`` (stored as ``data.y``; never used by ``fit``).
        remove_self_loops: Drop edges ``(i, i)`` (default ``True``): the graph ops
            (normalisation, adjacency powers) add self-loops with weight 1 themselves, so a
            stored loop would be counted twice. Set ``False`` to keep them.

    Returns:
        ``Data`` with ``x`` (if given), ``edge_index`` (long ``[2, E']``, coalesced: sorted by
        source then target, duplicates merged), ``edge_weight`` (float ``[E']``, only when
        weights were given; duplicate edges keep the largest weight), ``y`` (if given) and
        ``num_nodes``. Nothing else is removed: isolated nodes and zero-weight edges stay.

    Raises:
        GraphclInputError: Wrong shape of ``x``/``edges``/``edge_weight``/``y``, NaN/Inf
            features, floating or negative or out-of-range node ids, negative or non-finite
            weights, or ``num_nodes`` inconsistent with ``x``.
    """
    if x is not None:
        x = check_features(_as_tensor(x, "x"), "x")
    if num_nodes is not None:
        num_nodes = check_int(num_nodes, "num_nodes", minimum=1)
        if x is not None and x.size(0) != num_nodes:
            raise GraphclInputError(
                f"num_nodes={num_nodes} does not match x, which has {x.size(0)} rows"
            )
    elif x is not None:
        num_nodes = x.size(0)
    else:
        raise GraphclInputError("num_nodes is required when x is None")

    edge_index = check_edge_index(_edges_to_index(edges), num_nodes, "edges")
    num_input_edges = edge_index.size(1)
    weight: Optional[Tensor] = None
    if edge_weight is not None:
        weight = check_edge_weight(_as_tensor(edge_weight, "edge_weight"), num_input_edges)

    if remove_self_loops:
        edge_index, weight = _remove_self_loops(edge_index, weight)
    if undirected:
        edge_index, weight = to_undirected(edge_index, weight, num_nodes=num_nodes, reduce="max")
    else:
        edge_index, weight = coalesce(edge_index, weight, num_nodes=num_nodes, reduce="max")

    data = Data(edge_index=edge_index, num_nodes=num_nodes)
    if x is not None:
        data.x = x
    if weight is not None:
        data.edge_weight = weight
    if y is not None:
        yt = _as_tensor(y, "y")
        if torch.is_floating_point(yt) or yt.dtype == torch.bool or yt.is_complex():
            raise GraphclInputError(f"y must hold integer labels, got dtype {yt.dtype}")
        if yt.dim() != 1 or yt.numel() != num_nodes:
            raise GraphclInputError(f"y must have shape [{num_nodes}], got {tuple(yt.shape)}")
        data.y = yt.long()
    return data
