r"""MEOW's graph views: normalised meta-path operators and the static augmentations.

All edge lists; the operators become :class:`~graphcl.ops.SparseOperator` (CSR) matrices. Nothing here is ``N × N`` dense or
loops over edges in Python.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.ops.scatter import scatter
from graphcl.ops.sparse_matrix import SparseOperator, sparse_operator


def _check_rate(rate: float, name: str) -> float:
    if not (isinstance(rate, (int, float)) and 0.0 <= rate < 1.0):
        raise GraphclInputError(f"{name} must be in [0, 1), got {rate!r}")
    return float(rate)


def metapath_operator(edge_index: Tensor, weight: Tensor, num_nodes: int) -> SparseOperator:
    r"""The propagation operator of a (possibly directed) meta-path graph :math:`T`.

    .. math::
        \hat A = D^{-1/2}\, T^\top D^{-1/2}, \qquad D = \mathrm{diag}(T\mathbf 1)

    as the MEOW reference normalises its PathSim top-k graphs: node ``j`` aggregates from the
    nodes ``i`` whose top-k list holds ``j``, each entry scaled by its endpoints' row sums. A
    node with an empty row (no meta-path neighbour, not even itself) gets no messages.

    Args:
        edge_index: ``[2, nnz]`` entries ``(i, j)`` of ``T``.
        weight: ``[nnz]`` values (path counts, or ones).
        num_nodes: ``N``.

    Returns:
        A :class:`~graphcl.ops.SparseOperator` ``[N, N]`` (``A @ x`` aggregates).
    """
    weight = weight.to(torch.float32)
    deg = scatter(weight, edge_index[0], 0, num_nodes, reduce="sum")
    inv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-30).rsqrt(), torch.zeros_like(deg))
    value = weight * inv_sqrt[edge_index[0]] * inv_sqrt[edge_index[1]]
    return sparse_operator(edge_index.flip(0), value, num_nodes)  # the transpose


def mask_edges(edge_index: Tensor, num_nodes: int, rate: float, generator: torch.Generator) -> Tuple[Tensor, Tensor]:
    r"""MEOW's edge-masked view: drop the diagonal, delete a random ``⌊rate · |E|⌋`` of the
    remaining entries, binarise, add every self-loop.

    Args:
        edge_index: ``[2, nnz]`` entries of the meta-path graph.
        num_nodes: ``N``.
        rate: Fraction of off-diagonal entries to delete, in ``[0, 1)``.
        generator: Seeded generator (the mask is drawn once and reused every epoch).

    Returns:
        ``(edge_index, ones)`` of the masked graph, self-loops included.
    """
    rate = _check_rate(rate, "adj_mask")
    off = edge_index[:, edge_index[0] != edge_index[1]]
    keep = torch.randperm(off.size(1), generator=generator)[int(rate * off.size(1)):]
    loops = torch.arange(num_nodes).repeat(2, 1)
    out = torch.cat([off[:, keep.sort().values], loops], dim=1)
    return out, torch.ones(out.size(1))


def mask_features(x: Optional[Tensor], num_nodes: int, rate: float, generator: torch.Generator) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    r"""MEOW's feature-masked view: zero a random ``⌊rate · nnz⌋`` of the non-zero feature
    entries (no re-normalisation).

    For a featureless type (``x is None``, an embedding table standing for one-hot inputs)
    the same rule zeroes a random ``⌊rate · N⌋`` of its ``N`` one-hot entries, i.e. whole rows.

    Returns:
        ``(masked x or None, zero_rows [N] bool or None)``.
    """
    rate = _check_rate(rate, "feat_mask")
    if x is None:
        rows = torch.zeros(num_nodes, dtype=torch.bool)
        rows[torch.randperm(num_nodes, generator=generator)[: int(rate * num_nodes)]] = True
        return None, rows
    nz = x.nonzero(as_tuple=True)
    drop = torch.randperm(nz[0].numel(), generator=generator)[: int(rate * nz[0].numel())]
    out = x.clone()
    out[nz[0][drop], nz[1][drop]] = 0.0
    return out, None


def mean_operator(operators: list, num_nodes: int) -> SparseOperator:
    r""":math:`\bar A = \frac1M \sum_m \hat A_m` of sparse operators (MEOW's coarse view)."""
    parts = [op.coo() for op in operators]
    return sparse_operator(torch.cat([ei for ei, _ in parts], dim=1), torch.cat([w for _, w in parts]) / len(operators), num_nodes)
