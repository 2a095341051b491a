r"""Node shards with their halo: what one rank keeps of a graph.

A rank owns a contiguous range of node ids and the rows of the positive-weight matrix ``W``
for those nodes. Because graphcl's homogeneous encoders are MLPs, the embedding of a
positive partner ``j`` is the encoder applied to ``x_j`` alone, so the only graph data a rank
needs beyond its own rows is the **halo**: the features of the partners outside its range —
for ``W = \sum_{k \le r} \hat A^k`` exactly the r-hop neighbours of the shard. Each rank
computes the halo's embeddings itself (redundantly with their owner) and never exchanges them.

Memory per rank after sharding (float32, ``R`` ranks, ``n = N / R`` owned nodes, ``h`` halo
nodes, ``nnz_r`` the shard's rows of ``W``): ``4 (n + h) F`` for the features plus
``20 nnz_r`` for ``W``'s rows (two int64 indices and a float per pair).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError


def shard_sizes(num_nodes: int, world_size: int) -> List[int]:
    """Near-equal contiguous shard sizes: the first ``N mod R`` ranks get one node more."""
    if world_size < 1 or num_nodes < world_size:
        raise GraphclInputError(f"cannot split {num_nodes} nodes over {world_size} ranks (need at least one node per rank)")
    base, extra = divmod(num_nodes, world_size)
    return [base + (r < extra) for r in range(world_size)]


@dataclass
class GraphShard:
    """One rank's part of a graph (see the module docstring).

    Attributes:
        num_nodes: ``N`` of the whole graph.
        rank: The owning rank.
        counts: ``[R]`` nodes owned by each rank (rank ``r`` owns ids
            ``[sum(counts[:r]), sum(counts[:r+1]))``).
        x: ``[n + h, F]`` features: the owned nodes in id order, then the halo.
        halo: ``[h]`` global ids of the halo nodes (sorted).
        w_index: ``[2, nnz_r]`` the owned rows of ``W`` in local ids (rows ``< n``).
        w_value: ``[nnz_r]`` their weights.
        cross_pairs: How many of those pairs reach a node outside the shard.
    """

    num_nodes: int
    rank: int
    counts: List[int]
    x: Tensor
    halo: Tensor
    w_index: Tensor
    w_value: Tensor
    cross_pairs: int

    @property
    def num_owned(self) -> int:
        return self.counts[self.rank]

    @property
    def start(self) -> int:
        return sum(self.counts[: self.rank])

    @property
    def owned(self) -> Tensor:
        """``[n]`` global ids of the owned nodes."""
        return torch.arange(self.start, self.start + self.num_owned, device=self.x.device)

    def nbytes(self) -> int:
        """Bytes held by the shard's tensors."""
        return sum(t.numel() * t.element_size() for t in (self.x, self.halo, self.w_index, self.w_value))

    def to(self, device) -> "GraphShard":
        return GraphShard(self.num_nodes, self.rank, self.counts, self.x.to(device), self.halo.to(device),
                          self.w_index.to(device), self.w_value.to(device), self.cross_pairs)


def shard_graph(x: Tensor, w_index: Tensor, w_value: Tensor, rank: int, world_size: int) -> GraphShard:
    """Keep rank ``rank``'s rows of ``W`` and the features they reach.

    Args:
        x: ``[N, F]`` features of the whole graph.
        w_index: ``[2, nnz]`` positive pairs ``(i, j)`` of the whole graph (rows are anchors).
        w_value: ``[nnz]`` their weights.
        rank: This rank.
        world_size: ``R``.

    Returns:
        The :class:`GraphShard`. Cost ``O(nnz + (n + h) F)``; nothing per-node in Python.
    """
    n_total = x.size(0)
    counts = shard_sizes(n_total, world_size)
    if not 0 <= rank < world_size:
        raise GraphclInputError(f"rank must be in [0, {world_size}), got {rank}")
    start = sum(counts[:rank])
    stop = start + counts[rank]
    row, col = w_index
    mine = (row >= start) & (row < stop)
    row, col, value = row[mine], col[mine], w_value[mine]
    outside = (col < start) | (col >= stop)
    halo = torch.unique(col[outside])  # sorted
    local_col = torch.where(outside, counts[rank] + torch.searchsorted(halo, col), col - start)
    return GraphShard(
        num_nodes=n_total,
        rank=rank,
        counts=counts,
        x=torch.cat([x[start:stop], x[halo]]),
        halo=halo,
        w_index=torch.stack([row - start, local_col]),
        w_value=value,
        cross_pairs=int(outside.sum()),
    )
