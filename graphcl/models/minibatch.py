"""Mini-batch machinery shared by the estimators: anchor batches over the positive pairs.

An epoch partitions the nodes into batches of *anchors*. Each batch gathers every pair of the
positive-weight matrix ``W`` whose row is an anchor, together with the partner nodes those
pairs reach, so one epoch uses every node and every positive pair exactly once. Because the
encoders are MLPs, a partner's embedding is just the encoder applied to its features: no
neighbourhood sampling and no message passing are needed.

Memory per batch is ``O(|U| · h)`` for the encoder activations (``U`` = anchors plus partners,
``h`` the widest layer) plus ``O(B^2)`` for an all-pairs denominator over the anchors; beyond
``X`` and ``W`` themselves the estimators keep only ``O(K · d)`` running statistics and a node
permutation (8 bytes per node).
"""

from __future__ import annotations

import math
from typing import Iterator, Tuple

import torch
from torch import Tensor

#: Where a mini-batch gets its anchors' partner embeddings (see :class:`graphcl.models.SCGC`):
#: a table of historical embeddings, or the encoder run on every partner.
PARTNER_MODES = ("history", "encode")


class PositivePairBatches:
    """The positive-weight matrix ``W`` in CSR form, gathered one batch of anchor rows at a time.

    Args:
        edge_index: ``[2, nnz]`` support of ``W`` (rows are anchors).
        edge_weight: ``[nnz]`` weights.
        num_nodes: ``N``.
    """

    def __init__(self, edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> None:
        row, col = edge_index
        order = torch.argsort(row, stable=True)
        self.col = col[order]
        self.weight = edge_weight[order]
        counts = torch.bincount(row, minlength=num_nodes)
        self.rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=row.device)
        torch.cumsum(counts, 0, out=self.rowptr[1:])
        self.num_nodes = num_nodes

    def gather(self, anchors: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """The pairs of a batch of anchors, relabelled to the batch's node set.

        Args:
            anchors: ``[B]`` distinct node ids.

        Returns:
            ``(nodes [U], anchor_pos [B], edge_index [2, nnz_B], edge_weight [nnz_B])``:
            the sorted ids of the anchors and their partners, each anchor's position in
            ``nodes``, and the anchors' pairs as positions in ``nodes``.
        """
        start = self.rowptr[anchors]
        counts = self.rowptr[anchors + 1] - start
        total = int(counts.sum())
        first = torch.cumsum(counts, 0) - counts
        pos = torch.repeat_interleave(start - first, counts) + torch.arange(total, device=anchors.device)
        partners = self.col[pos]
        nodes, inverse = torch.unique(torch.cat([anchors, partners]), return_inverse=True)
        b = anchors.numel()
        anchor_pos = inverse[:b]
        local = torch.stack([torch.repeat_interleave(anchor_pos, counts), inverse[b:]])
        return nodes, anchor_pos, local, self.weight[pos]


def anchor_batches(num_nodes: int, batch_size: int, generator: torch.Generator, device: torch.device) -> Iterator[Tensor]:
    """A random partition of ``range(N)`` into ``ceil(N / batch_size)`` near-equal batches
    (at most ``batch_size`` nodes each, never fewer than two: an anchor needs another anchor
    in the denominator)."""
    n_batches = max(1, min(math.ceil(num_nodes / batch_size), num_nodes // 2))
    perm = torch.randperm(num_nodes, generator=generator).to(device)
    return iter(perm.tensor_split(n_batches))

