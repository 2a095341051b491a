"""Adjacency preprocessing: symmetrisation, self-loops and normalisation (sparse, COO)."""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.utils import coalesce

from graphcl.ops.scatter import scatter
from graphcl.validation import check_choice, check_edge_index, check_edge_weight, check_int

EdgeList = Tuple[Tensor, Tensor]


def _weights(edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
    if edge_weight is None:
        return torch.ones(edge_index.size(1), device=edge_index.device)
    return edge_weight


def symmetrize(edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int) -> EdgeList:
    """Make a graph undirected: ``A <- max(A, A^T)`` elementwise (duplicates merged by max).

    This is the reference loaders' rule (``A + A^T∘[A^T>A] - A∘[A^T>A]``).

    Args:
        edge_index: ``[2, E]`` COO indices.
        edge_weight: ``[E]`` weights or ``None`` (all ones).
        num_nodes: Number of nodes ``N``.

    Returns:
        ``(edge_index, edge_weight)`` of the symmetric, coalesced graph.
    """
    w = _weights(edge_index, edge_weight)
    ei = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    return coalesce(ei, torch.cat([w, w]), num_nodes=num_nodes, reduce="max")


def add_self_loops(
    edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int, fill_value: float = 1.0
) -> EdgeList:
    """Return ``A + fill_value * I`` as a coalesced COO graph.

    Existing self-loops are kept and ``fill_value`` is added to them, so the result is exactly
    ``A + cI`` for any input.
    """
    w = _weights(edge_index, edge_weight)
    loop = torch.arange(num_nodes, device=edge_index.device)
    ei = torch.cat([edge_index, torch.stack([loop, loop])], dim=1)
    ew = torch.cat([w, torch.full((num_nodes,), float(fill_value), dtype=w.dtype, device=w.device)])
    return coalesce(ei, ew, num_nodes=num_nodes, reduce="sum")


def normalize_adjacency(
    edge_index: Tensor,
    edge_weight: Optional[Tensor] = None,
    num_nodes: Optional[int] = None,
    mode: str = "row",
    self_loops: bool = True,
    make_symmetric: bool = True,
) -> EdgeList:
    r"""Normalised adjacency :math:`\hat A` as a sparse COO edge list.

    With ``make_symmetric`` the graph is first made undirected (``max(A, A^T)``); with
    ``self_loops`` the identity is added. Then

    * ``mode="row"`` (random walk, as SCGC/PamC): :math:`\hat A = D^{-1}(A+I)`, every row
      sums to 1 and an isolated node gets :math:`\hat A_{ii}=1`;
    * ``mode="sym"`` (GCN/Graph-MLP): :math:`\hat A = D^{-1/2}(A+I)D^{-1/2}`.

    Args:
        edge_index: ``[2, E]`` COO indices.
        edge_weight: ``[E]`` non-negative weights, or ``None`` for ones.
        num_nodes: ``N`` (default: ``edge_index.max() + 1``).
        mode: ``"row"`` or ``"sym"``.
        self_loops: Add :math:`I` before normalising.
        make_symmetric: Symmetrise first.

    Returns:
        ``(edge_index, edge_weight)``, coalesced (sorted by row, then column).
    """
    check_choice(mode, "mode", ("row", "sym"))
    if num_nodes is None:
        edge_index = check_edge_index(edge_index, 2**63 - 1)  # the shape and dtype, before reading the ids
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    num_nodes = check_int(num_nodes, "num_nodes", minimum=0)
    edge_index = check_edge_index(edge_index, num_nodes)
    edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    w = _weights(edge_index, edge_weight)
    if make_symmetric:
        edge_index, w = symmetrize(edge_index, w, num_nodes)
    if self_loops:
        edge_index, w = add_self_loops(edge_index, w, num_nodes)
    else:
        edge_index, w = coalesce(edge_index, w, num_nodes=num_nodes, reduce="sum")
    row, col = edge_index
    deg = scatter(w, row, dim=0, dim_size=num_nodes, reduce="sum")
    if mode == "row":
        inv = deg.reciprocal().masked_fill(deg == 0, 0.0)
        w = w * inv[row]
    else:
        inv_sqrt = deg.rsqrt().masked_fill(deg == 0, 0.0)
        w = w * inv_sqrt[row] * inv_sqrt[col]
    return edge_index, w
