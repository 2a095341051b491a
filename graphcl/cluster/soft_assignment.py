"""DEC-style soft cluster assignment (Student-t kernel), target distribution and KL term."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from graphcl.validation import check_n_clusters, check_positive


class StudentTAssignment(nn.Module):
    r"""Soft assignment of embeddings to learnable cluster centres (DEC, SDCN, SCGC).

    .. math::
        q_{ik} = \frac{(1 + \lVert z_i - \mu_k\rVert^2 / v)^{-(v+1)/2}}
                      {\sum_{k'} (1 + \lVert z_i - \mu_{k'}\rVert^2 / v)^{-(v+1)/2}}

    The centres :math:`\mu \in \mathbb{R}^{K \times d}` are a parameter trained jointly with
    the encoder; initialise them with :func:`graphcl.cluster.kmeans_centers`. Cost
    :math:`O(NKd)`.

    Args:
        n_clusters: ``K``.
        embedding_dim: ``d``.
        degree_of_freedom: ``v`` (1 in DEC/SCGC).
    """

    def __init__(self, n_clusters: int, embedding_dim: int, degree_of_freedom: float = 1.0) -> None:
        super().__init__()
        self.n_clusters = check_n_clusters(n_clusters)
        self.embedding_dim = int(embedding_dim)
        self.degree_of_freedom = check_positive(degree_of_freedom, "degree_of_freedom")
        self.centers = nn.Parameter(torch.empty(self.n_clusters, self.embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_normal_(self.centers)

    @torch.no_grad()
    def set_centers(self, centers: Tensor) -> None:
        """Overwrite the centres in place (the optimizer keeps tracking the same parameter)."""
        self.centers.copy_(torch.as_tensor(centers, dtype=self.centers.dtype, device=self.centers.device))

    def forward(self, z: Tensor) -> Tensor:
        """Args: z ``[N, d]``. Returns: q ``[N, K]``, rows summing to 1."""
        v = self.degree_of_freedom
        # ||z||² - 2 z·μ + ||μ||²: [N, K] without an [N, K, d] difference tensor.
        mu = self.centers
        dist2 = (z.pow(2).sum(1, keepdim=True) - 2.0 * z @ mu.t() + mu.pow(2).sum(1)).clamp_min(0.0)
        logits = -(v + 1.0) / 2.0 * torch.log1p(dist2 / v)
        return torch.softmax(logits, dim=1)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(n_clusters={self.n_clusters}, embedding_dim={self.embedding_dim}, "
            f"degree_of_freedom={self.degree_of_freedom})"
        )


def target_distribution(q: Tensor, freq: Optional[Tensor] = None) -> Tensor:
    r"""DEC's sharpened target :math:`p_{ik} = (q_{ik}^2/f_k) / \sum_{k'} (q_{ik'}^2/f_{k'})`,
    :math:`f_k = \sum_i q_{ik}`.

    Args:
        q: Soft assignments ``[N, K]`` (detach them first: the target is held fixed).
        freq: ``[K]`` cluster frequencies :math:`f_k` to use instead of ``q.sum(0)`` — in
            mini-batch training, the whole graph's frequencies from the previous epoch.

    Returns:
        ``[N, K]`` target distribution.
    """
    f = q.sum(dim=0) if freq is None else freq.to(q.dtype)
    weight = q.pow(2) / f.clamp_min(torch.finfo(q.dtype).tiny)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_clustering_loss(p: Tensor, q: Tensor, eps: Optional[float] = None) -> Tensor:
    r""":math:`\mathrm{KL}(P\,\|\,Q) = \frac{1}{N}\sum_i\sum_k p_{ik}(\log p_{ik} - \log q_{ik})`
    ("batchmean"), with :math:`0\log 0 := 0`.

    Args:
        p: Target ``[N, K]`` (no gradient is taken through it).
        q: Soft assignments ``[N, K]``.
        eps: Floor for ``q`` inside the log (default: the dtype's smallest normal number).
    """
    eps = torch.finfo(q.dtype).tiny if eps is None else eps
    log_q = q.clamp_min(eps).log()
    return torch.nn.functional.kl_div(log_q, p.detach(), reduction="batchmean")
