r"""Row normalisation and global standardisation with hand-written backward passes.

MEOW's network normalises every view and standardises the coarse view over ``[N, d]``
tensors. Written with autograd's primitives, each keeps its input (and the norms, the mean,
the expanded divisor) for the backward pass, which then makes six to eight passes over
``[N, d]``. These two functions keep only their **output** and one value per row (or one
scalar), which the next module keeps anyway, and differentiate in three passes; because they
do not keep their input, a caller that recomputes its activations
(:func:`torch.utils.checkpoint.checkpoint`) does not need to recompute the input either
(checkpointing stops recomputing once every tensor the backward reads is back). Forward values
are bit for bit those of the autograd formulas; gradients equal theirs to rounding
(``tests/nn/test_nn_normalization.py``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["row_normalize", "standardize"]

_NORM_EPS = 1e-12  # F.normalize's


class _RowNormalize(torch.autograd.Function):
    r"""``y = c / max(‖c‖_row, ε)`` with ``c = x − mean(x)`` (``center``) or ``c = x``.

    Backward, with ``r = max(‖c‖_row, ε)``: ``∂c = (g − y ⟨y, g⟩_row) / r`` (rows whose norm
    was clamped at ``ε``: ``g / ε``, as ``F.normalize``), then ``∂x = ∂c − mean(∂c)`` when
    centred. Keeps ``y`` and ``r`` only.
    """

    @staticmethod
    def forward(ctx, x: Tensor, center: bool) -> Tensor:  # type: ignore[override]
        c = x - x.mean() if center else x
        norm = torch.linalg.vector_norm(c, dim=1, keepdim=True).clamp_min_(_NORM_EPS)
        y = c.div(norm) if c is x else c.div_(norm)
        ctx.save_for_backward(y, norm)
        ctx.center = center
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        y, norm = ctx.saved_tensors
        dot = (y * grad).sum(dim=1, keepdim=True).masked_fill_(norm <= _NORM_EPS, 0.0)
        dc = torch.addcmul(grad, y, dot, value=-1.0).div_(norm)
        if ctx.center:
            dc.sub_(dc.mean())
        return dc, None


class _Standardize(torch.autograd.Function):
    r"""``y = (x − μ) / σ``, ``μ`` and ``σ² = var(x) + ε`` over all entries (biased variance).

    Backward: ``∂x = (g − mean(g) − y · mean(g ⊙ y)) / σ``. Keeps ``y`` and ``σ`` only.
    """

    @staticmethod
    def forward(ctx, x: Tensor, eps: float) -> Tensor:  # type: ignore[override]
        var, mean = torch.var_mean(x, unbiased=False)
        std = torch.sqrt(var + eps)
        y = (x - mean).div_(std)
        ctx.save_for_backward(y, std)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        y, std = ctx.saved_tensors
        gy = (grad * y).mean()
        return torch.addcmul(grad - grad.mean(), y, gy, value=-1.0).div_(std), None


def row_normalize(x: Tensor, center: bool = False) -> Tensor:
    r"""Unit rows, :math:`y_i = c_i / \max(\lVert c_i\rVert, 10^{-12})` with :math:`c = x - \bar x`
    (``center``: :math:`\bar x` the mean of **all** entries) or :math:`c = x`.

    The values of ``F.normalize(x - x.mean() if center else x, dim=1)``, bit for bit; autograd
    keeps ``y`` and the row norms instead of ``x``.

    Shapes:
        ``[N, d] -> [N, d]``.
    """
    return _RowNormalize.apply(x, bool(center))


def standardize(x: Tensor, eps: float = 1e-5) -> Tensor:
    r"""Global standardisation :math:`(x - \mu) / \sqrt{\sigma^2 + \epsilon}`, :math:`\mu` and the
    biased :math:`\sigma^2` over all entries (the reference's ``LayerNorm(Z.size())`` without
    affine). Autograd keeps the output and one scalar instead of ``x``.

    Shapes:
        ``[N, d] -> [N, d]``.
    """
    return _Standardize.apply(x, float(eps))
