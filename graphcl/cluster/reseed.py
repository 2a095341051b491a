r"""Re-seeding clusters that lost every member, by splitting the most spread cluster.

DEC-style self-training (the KL term of SCGC, SCGC* and PamC) can drain a cluster: its members
drift to neighbouring clusters until none is left, and the clustering ends with fewer than the
``K`` clusters asked for. k-means implementations meet the same event (an empty cluster after
an assignment step) and relocate the empty centre; :func:`reseed_empty_clusters` does it the
label-free way of bisecting k-means: the cluster with the largest within-cluster sum of squares

.. math::
    \mathrm{SSE}_k = \sum_{i:\,a_i = k} \lVert z_i - \mu_k \rVert^2

is split in two by a few Lloyd iterations started from its centre and its member farthest from
that centre; one half keeps the donor's index, the other takes the empty cluster's. Cost
``O(N d)`` per empty cluster; nothing is random.
"""

from __future__ import annotations

from typing import List, Tuple

import torch
from torch import Tensor

from graphcl.ops.scatter import scatter
from graphcl.validation import check_int


@torch.no_grad()
def reseed_empty_clusters(z: Tensor, labels: Tensor, centers: Tensor, n_iter: int = 10) -> Tuple[Tensor, Tensor, List[int]]:
    """New centres for the empty clusters of a hard assignment.

    Args:
        z: ``[N, d]`` embeddings.
        labels: ``[N]`` cluster of each node in ``[0, K)``.
        centers: ``[K, d]`` current centres (not modified).
        n_iter: Lloyd iterations of each split.

    Returns:
        ``(centers [K, d], labels [N], reseeded)``: the centres with every empty cluster
        re-seeded (and each donor's centre moved to its half), the labels after the splits, and
        the indices of the re-seeded clusters (empty list: nothing changed). A cluster stays
        empty only when no cluster has two distinct members to split.
    """
    n_iter = check_int(n_iter, "n_iter")
    k = centers.size(0)
    centers, labels = centers.detach().clone(), labels.clone()
    z = z.detach().to(centers.dtype)
    counts = torch.bincount(labels, minlength=k)
    reseeded: List[int] = []
    for empty in torch.nonzero(counts == 0).view(-1).tolist():
        means = scatter(z, labels, dim=0, dim_size=k, reduce="sum") / counts.clamp_min(1)[:, None].to(z.dtype)
        sse = scatter(((z - means[labels]) ** 2).sum(1), labels, dim=0, dim_size=k, reduce="sum")
        sse[counts < 2] = -1.0
        donor = int(sse.argmax())
        if float(sse[donor]) <= 0.0:  # nothing left to split
            break
        members = torch.nonzero(labels == donor).view(-1)
        zm = z[members]
        a = means[donor]
        b = zm[((zm - a) ** 2).sum(1).argmax()]
        side = torch.zeros(members.numel(), dtype=torch.bool, device=z.device)
        for _ in range(n_iter):
            side = ((zm - b) ** 2).sum(1) < ((zm - a) ** 2).sum(1)
            if bool(side.all()) or not bool(side.any()):
                break
            a, b = zm[~side].mean(0), zm[side].mean(0)
        if bool(side.all()) or not bool(side.any()):  # degenerate: move the farthest member alone
            side = torch.zeros_like(side)
            side[((zm - means[donor]) ** 2).sum(1).argmax()] = True
            a, b = zm[~side].mean(0), zm[side].mean(0)
        centers[donor], centers[empty] = a, b
        labels[members[side]] = empty
        counts = torch.bincount(labels, minlength=k)
        reseeded.append(empty)
    return centers, labels, reseeded
