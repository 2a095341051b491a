"""Per-edge similarities of node embeddings."""

from __future__ import annotations

import torch
from torch import Tensor


def l2_normalize(z: Tensor, eps: float = 1e-12) -> Tensor:
    r"""Row-normalise: :math:`z_i / \lVert z_i\rVert`.

    A row with norm :math:`\le \epsilon` maps to zero **with zero gradient**: its cosine
    with anything is 0, a fixed sub-gradient. (``F.normalize`` would give it a gradient of
    order :math:`1/\epsilon`.)
    """
    norm = z.norm(p=2, dim=-1, keepdim=True)
    keep = norm > eps
    return z / torch.where(keep, norm, torch.ones_like(norm)) * keep


def edge_cosine_similarity(z: Tensor, edge_index: Tensor, zero_self_loops: bool = True, eps: float = 1e-12) -> Tensor:
    r"""Cosine similarity :math:`s_e = \hat z_i^\top \hat z_j` for every edge :math:`e=(i,j)`.

    Args:
        z: Node embeddings ``[N, d]``.
        edge_index: ``[2, E]`` COO indices.
        zero_self_loops: Set :math:`s_{ii} := 0` on self-loops, the convention of the SCGC
            and Graph-MLP losses (the diagonal of the similarity matrix is masked to 0).
        eps: Norm floor; a zero embedding has similarity 0 with everything.

    Returns:
        ``[E]`` similarities in ``[-1, 1]``.
    """
    zn = l2_normalize(z, eps)
    row, col = edge_index
    s = (zn[row] * zn[col]).sum(dim=-1)
    if zero_self_loops:
        s = s.masked_fill(row == col, 0.0)
    return s
