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


EDGE_CHUNK = 1 << 18  # pairs per chunk: bounds the gathered [chunk, d] temporaries


class _EdgeDot(torch.autograd.Function):
    """``s_e = a_{row_e} · a_{col_e}`` computed ``chunk`` pairs at a time; autograd saves only
    ``a`` and the indices, so memory is ``O(E + N·d + chunk·d)`` instead of the ``O(E·d)`` that
    gathering ``a[row]`` and ``a[col]`` for all pairs (and keeping them for backward) costs."""

    @staticmethod
    def forward(ctx, a: Tensor, row: Tensor, col: Tensor, chunk: int) -> Tensor:  # type: ignore[override]
        out = a.new_empty(row.numel())
        for s in range(0, row.numel(), chunk):
            out[s : s + chunk] = (a[row[s : s + chunk]] * a[col[s : s + chunk]]).sum(dim=-1)
        ctx.save_for_backward(a, row, col)
        ctx.chunk = chunk
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        a, row, col = ctx.saved_tensors
        # Two buffers, summed at the end: the same accumulation order as autograd's
        # backward of the two gathers.
        g_row, g_col = torch.zeros_like(a), torch.zeros_like(a)
        for s in range(0, row.numel(), ctx.chunk):
            r, c, g = row[s : s + ctx.chunk], col[s : s + ctx.chunk], grad_out[s : s + ctx.chunk, None]
            g_row.index_add_(0, r, g * a[c])
            g_col.index_add_(0, c, g * a[r])
        return g_row + g_col, None, None, None


def edge_dot(a: Tensor, edge_index: Tensor, chunk: int = EDGE_CHUNK) -> Tensor:
    r"""Per-pair dot products :math:`a_i^\top a_j` for ``edge_index`` ``[2, E]``, in chunks
    (memory ``O(E + chunk · d)``, gradients included)."""
    return _EdgeDot.apply(a, edge_index[0], edge_index[1], int(chunk))


def edge_cosine_similarity(z: Tensor, edge_index: Tensor, zero_self_loops: bool = True, eps: float = 1e-12) -> Tensor:
    r"""Cosine similarity :math:`s_e = \hat z_i^\top \hat z_j` for every edge :math:`e=(i,j)`.

    Args:
        z: Node embeddings ``[N, d]``.
        edge_index: ``[2, E]`` COO indices.
        zero_self_loops: Set :math:`s_{ii} := 0` on self-loops, the convention of the SCGC
            and Graph-MLP losses (the diagonal of the similarity matrix is masked to 0).
        eps: Norm floor; a zero embedding has similarity 0 with everything.

    Returns:
        ``[E]`` similarities in ``[-1, 1]``. Computed in chunks of pairs (:func:`edge_dot`):
        memory ``O(E + N·d)``, never ``O(E·d)``.
    """
    zn = l2_normalize(z, eps)
    row, col = edge_index
    s = edge_dot(zn, edge_index)
    if zero_self_loops:
        s = s.masked_fill(row == col, 0.0)
    return s
