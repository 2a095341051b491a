r"""AdaMEOW's InfoNCE with negative weights learned by a pair MLP (meow.md §3.2, §8)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from graphcl.errors import GraphclInputError
from graphcl.losses.meow import check_views
from graphcl.validation import check_int, check_positive

_CHUNK_ELEMENTS = 1 << 20  # default bound on one [chunk, N, hidden] block (4 MB in float32)


def _tanh_(x: Tensor) -> Tensor:
    """In-place ``tanh(x) = 2 sigmoid(2x) - 1``: about 3x faster than ``torch.tanh`` on CPU
    (torch 2.x), with an absolute error of a few ulps of 1; the ``N^2 H`` tanh is this loss's
    costliest elementwise pass."""
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


class _MeanAdaptiveLogSumExp(torch.autograd.Function):
    r"""``mean_i log sum_j sigmoid(z_ij) exp(u_i·v_j/T)`` with ``z_ij = wb·tanh(a_i + b_j) + bb``,
    in row blocks of ``chunk``.

    As in MEOW's kernel (:class:`graphcl.losses.meow._MeanWeightedLogSumExp`), one pass over
    the blocks computes the value and, when ``with_grad``, all six gradients (a block holds
    whole rows, so each row's softmax is complete inside it, and the upstream gradient of a
    mean is a scalar): the ``[b, N, H]`` hidden block is built once, never kept. Peak extra
    memory ``O(b·N·H)``. Each row is a log-sum-exp of ``u_i·v_j/T + log sigmoid(z_ij)``.
    """

    @staticmethod
    def forward(ctx, u, v, a, b, wb, bb, inv_t: float, chunk: int, with_grad: bool):  # type: ignore[override]
        n = u.size(0)
        total = u.new_zeros(())
        grads = [torch.zeros_like(t) for t in (u, v, a, b, wb, bb)] if with_grad else None
        for s in range(0, n, chunk):
            rows = slice(s, min(s + chunk, n))
            h = _tanh_(a[rows, None, :] + b[None, :, :])  # [b, N, H]
            z = torch.matmul(h, wb).add_(bb)  # [b, N], the weight's logit
            t = torch.addmm(F.logsigmoid(z), u[rows], v.t(), alpha=inv_t)
            out = torch.logsumexp(t, dim=1, keepdim=True)
            total += out.sum()
            if with_grad:
                _accumulate_grads(grads, u, v, wb, rows, h, z, t.sub_(out).exp_())
        if with_grad:
            grads[0].mul_(inv_t)  # d t / d (u_i·v_j) = 1/T
            grads[1].mul_(inv_t)
            ctx.save_for_backward(*[g.div_(n) for g in grads])
        return total / n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):  # type: ignore[override]
        return tuple(grad_out * g for g in ctx.saved_tensors) + (None, None, None)


def _accumulate_grads(grads, u: Tensor, v: Tensor, wb: Tensor, rows: slice, h: Tensor, z: Tensor, p: Tensor) -> None:
    r"""Add one block's gradients of :math:`\sum_i \log\sum_j e^{t_{ij}}` (``h``, ``z`` and
    ``p`` = the row softmax of ``t`` are overwritten).

    :math:`\partial t/\partial(u_i^\top v_j) = 1/T` (applied by the caller),
    :math:`\partial t/\partial z = \sigma(-z)`, :math:`\partial z/\partial w_b = h`,
    :math:`\partial z/\partial(a_i + b_j) = w_b \odot (1 - h^2)`.
    """
    g_u, g_v, g_a, g_b, g_wb, g_bb = grads
    g_u[rows] = p @ v
    g_v.addmm_(p.t(), u[rows])
    dz = p.mul_(torch.sigmoid(z.neg_()))  # [b, N]
    g_bb += dz.sum()
    g_wb += dz.reshape(1, -1).matmul(h.reshape(-1, h.size(-1))).view(-1)
    dz_h2 = h.mul_(h).mul_(dz.unsqueeze(-1))  # dz_ij h_ij^2, in place of h
    g_a[rows] = (dz.sum(1, keepdim=True) - dz_h2.sum(1)) * wb  # sum over j
    g_b += (dz.sum(0).unsqueeze(1) - dz_h2.sum(0)) * wb  # sum over i


class AdaptiveWeightInfoNCE(nn.Module):
    r"""AdaMEOW's InfoNCE with soft negative weights from a pair MLP (meow.md §3.2).

    With :math:`s_{ij} = \exp(u_i^\top v_j / T)` and the learned pair weight

    .. math::
        w_{ij} = \sigma\big(W_b \tanh(W_a (u_i + v_j) + b_a) + b_b\big) \in (0, 1),

    .. math::
        \mathcal L = -\frac{1}{N}\sum_{i=1}^N \log\frac{s_{ii}}{\sum_{j=1}^N w_{ij}\, s_{ij}} .

    Here ``j`` runs over **all** nodes: the positive is in the denominator, weighted by
    :math:`w_{ii}` (unlike MEOW's :class:`~graphcl.losses.ClusterWeightedInfoNCE`). The MLP
    (:math:`W_a \in \mathbb R^{H\times p}`, :math:`b_a \in \mathbb R^H`,
    :math:`W_b \in \mathbb R^{1\times H}`, :math:`b_b \in \mathbb R`) is owned by this module
    and trained on the same loss. As in the reference nothing keeps :math:`w_{ij}` away from 0
    (lowering every weight lowers the loss); there is no regulariser or stop-gradient.

    **Cost.** The reference materialises all :math:`N^2` pair inputs (``N^2 × p`` floats). The
    first layer is linear, so :math:`W_a(u_i + v_j) + b_a = A_i + B_j` with
    :math:`A = U W_a^\top + b_a` and :math:`B = V W_a^\top` (``[N, H]``), an exact rewrite
    (meow.md §8). The remaining ``O(N^2 (H + p))`` work runs in blocks of ``chunk_size`` whole
    rows in a hand-written autograd function. Since a block holds whole rows and the loss is a
    mean, the forward pass computes the gradients of ``u``, ``v``, ``A``, ``B``, :math:`W_b`,
    :math:`b_b` in the same pass over each block (when gradients are enabled and some input
    requires them) and backward only scales them: each ``[chunk, N, H]`` block is built once
    and dropped, so no ``[N, N, H]`` tensor, and no ``N × N`` one, is ever kept; peak extra
    memory ``O(chunk_size · N · H)``. (A forward pass with gradients enabled thus costs the
    gradient work even if it is never back-propagated: evaluate under ``torch.no_grad()``.
    Second derivatives are not supported.) The denominator is a log-sum-exp of
    :math:`u_i^\top v_j/T + \log\sigma(\cdot)`, stable for any inputs.

    Args:
        in_channels: ``p``, the embedding width (64; 16 for AMiner in the reference).
        hidden: ``H``, the MLP's hidden width (16 in the reference).
        temperature: ``T > 0``.
        chunk_size: Rows per block (``None``: about :math:`2^{20}/(N H)`, 4 MB float32 blocks).

    Shapes:
        - **u**: ``[N, p]`` anchors (AdaMEOW: the fine view); **v**: ``[N, p]`` samples
          (the coarse view), ``v_i`` the positive of ``u_i``.
        - **output**: scalar.
    """

    def __init__(self, in_channels: int, hidden: int = 16, temperature: float = 1.0, chunk_size: Optional[int] = None) -> None:
        super().__init__()
        self.in_channels, self.hidden = check_int(in_channels, "in_channels"), check_int(hidden, "hidden")
        self.temperature = check_positive(temperature, "temperature")
        self.chunk_size = check_int(chunk_size, "chunk_size", allow_none=True)
        self.lin_a = nn.Linear(self.in_channels, self.hidden)  # W_a, b_a
        self.lin_b = nn.Linear(self.hidden, 1)  # W_b, b_b
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Linear``'s default initialisation (as the reference's ``nn.Linear`` layers)."""
        self.lin_a.reset_parameters()
        self.lin_b.reset_parameters()

    def pair_weights(self, u: Tensor, v: Tensor) -> Tensor:
        r"""The dense ``[N, N]`` matrix :math:`w_{ij}` — for inspection on small inputs only."""
        check_views(u, v)
        h = torch.tanh(self.lin_a(u)[:, None, :] + (v @ self.lin_a.weight.t())[None, :, :])
        return torch.sigmoid(self.lin_b(h).squeeze(-1))

    def forward(self, u: Tensor, v: Tensor) -> Tensor:
        check_views(u, v)
        if u.size(1) != self.in_channels:
            raise GraphclInputError(f"u and v must have {self.in_channels} columns (in_channels), got {u.size(1)}")
        n = u.size(0)
        chunk = self.chunk_size or max(1, _CHUNK_ELEMENTS // (n * self.hidden))
        a = self.lin_a(u)  # A + b_a
        b = v @ self.lin_a.weight.t()  # B
        wb, bb = self.lin_b.weight.view(-1), self.lin_b.bias.view(())
        with_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (u, v, a, b, wb, bb))
        log_den = _MeanAdaptiveLogSumExp.apply(u, v, a, b, wb, bb, 1.0 / self.temperature, chunk, with_grad)
        return log_den - (u * v).sum(dim=1).mean() / self.temperature

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.in_channels}, hidden={self.hidden}, "
            f"temperature={self.temperature}, chunk_size={self.chunk_size})"
        )
