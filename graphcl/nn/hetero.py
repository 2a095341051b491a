r"""Building blocks of the heterogeneous encoders (MEOW / AdaMEOW).

Every module follows PyG's protocol (``reset_parameters``, ``__repr__``, tensors in and out);
graph operators are :class:`graphcl.ops.SparseOperator` matrices built once by
:func:`graphcl.ops.sparse_operator`
and passed to ``forward``, so one module serves any number of meta-path graphs.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.nn.dropout import dropout
from graphcl.nn.normalization import row_normalize, standardize
from graphcl.ops.sparse_matrix import SparseOperator, spmm
from graphcl.validation import check_float, check_int


class NodeTypeProjection(nn.Module):
    r"""Projects one node type into the shared space: :math:`h_v = \mathrm{ELU}(\mathrm{Drop}(W x_v + b))`.

    A type with features uses a ``Linear(in_channels, out_channels)``. A featureless type
    (``in_channels=None``) uses a learnable embedding table — the same function as a linear
    layer on one-hot inputs, without the dense ``N × N`` identity matrix.

    Args:
        in_channels: Feature size, or ``None`` for a featureless type.
        out_channels: Output size.
        num_nodes: Number of nodes (required for a featureless type).
        dropout: Dropout probability on :math:`W x + b`.

    Shapes:
        - **x**: ``[N, in_channels]`` (``None`` for a featureless type);
          **zero_rows**: optional ``[N]`` bool, rows whose input is treated as all zeros
          (a feature-masked view) -> ``[N, out_channels]``.
    """

    def __init__(self, in_channels: Optional[int], out_channels: int, num_nodes: Optional[int] = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.out_channels = check_int(out_channels, "out_channels")
        self.dropout = check_float(dropout, "dropout", 0.0, 1.0, max_inclusive=False)
        self.in_channels = None if in_channels is None else check_int(in_channels, "in_channels")
        if in_channels is None:
            if num_nodes is None:
                raise GraphclInputError("a featureless node type needs num_nodes")
            self.num_nodes = check_int(num_nodes, "num_nodes")
            self.table = nn.Parameter(torch.empty(self.num_nodes, self.out_channels))
            self.bias = nn.Parameter(torch.empty(self.out_channels))
            self.lin = None
        else:
            self.num_nodes = check_int(num_nodes, "num_nodes", allow_none=True)
            self.lin = nn.Linear(self.in_channels, self.out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.lin is not None:
            self.lin.reset_parameters()
        else:  # nn.Linear's default init for a one-hot input of size num_nodes
            bound = 1.0 / math.sqrt(self.num_nodes)
            nn.init.uniform_(self.table, -bound, bound)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Optional[Tensor] = None, zero_rows: Optional[Tensor] = None) -> Tensor:
        if self.lin is None:
            if x is not None:
                raise GraphclInputError("this node type is featureless (embedding table): pass x=None")
            h = self.table
            if zero_rows is not None:
                h = h.masked_fill(zero_rows.unsqueeze(1), 0.0)
            h = h + self.bias
        else:
            if x is None or x.dim() != 2 or x.size(1) != self.lin.in_features:
                shape = None if x is None else tuple(x.shape)
                raise GraphclInputError(f"x must have shape [N, {self.lin.in_features}], got {shape}")
            if zero_rows is not None:
                x = x.masked_fill(zero_rows.unsqueeze(1), 0.0)
            h = self.lin(x)
        return F.elu(dropout(h, self.dropout, self.training))

    def __repr__(self) -> str:
        src = "embedding" if self.lin is None else str(self.in_channels)
        return f"{self.__class__.__name__}({src} -> {self.out_channels}, dropout={self.dropout})"


class MetaPathContextEncoder(nn.Module):
    r"""Fine-grained (meta-path context) view of one meta-path (MEOW).

    .. math::
        f(i) = \mathrm{ELU}\Big(h_i + \sum_{t} \mathrm{Drop}\big(W_t\, c_t(i)\big)\Big),
        \qquad c_t(i) = \frac{1}{\max(1, |N_t(i)|)} \sum_{u \in N_t(i)} h_u

    :math:`N_t(i)` is the set of type-:math:`t` nodes reachable from :math:`i` along the
    meta-path's prefix up to position :math:`t`. The means :math:`c_t` are sparse products
    (:func:`graphcl.ops.row_mean_operator`), computed by the caller once and shared by every
    meta-path that has the same context; each meta-path owns its ``W_t`` (no bias).

    Args:
        num_contexts: Number of context positions of the meta-path.
        channels: Embedding size.
        dropout: Dropout on each context term.

    Shapes:
        - **h**: ``[N, channels]``; **contexts**: ``num_contexts`` tensors ``[N, channels]``
          -> ``[N, channels]``.
    """

    def __init__(self, num_contexts: int, channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_contexts = check_int(num_contexts, "num_contexts")
        self.channels = check_int(channels, "channels")
        self.dropout = check_float(dropout, "dropout", 0.0, 1.0, max_inclusive=False)
        self.lins = nn.ModuleList(nn.Linear(self.channels, self.channels, bias=False) for _ in range(self.num_contexts))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in self.lins:
            lin.reset_parameters()

    def forward(self, h: Tensor, contexts: Sequence[Tensor]) -> Tensor:
        if len(contexts) != self.num_contexts:
            raise GraphclInputError(f"expected {self.num_contexts} context tensors, got {len(contexts)}")
        out = h
        for lin, c in zip(self.lins, contexts):
            out = out + dropout(lin(c), self.dropout, self.training)
        return F.elu(out)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(contexts={self.num_contexts}, channels={self.channels})"


class _PReLULinear(torch.autograd.Function):
    r"""``PReLU(s) W^T`` keeping only ``s`` for the backward pass (``PReLU(s)`` is recomputed
    there): one ``[N, c]`` tensor fewer saved. Values, and the gradients of ``s`` and ``W``,
    are autograd's own bit for bit; with one shared slope ``a`` (``nn.PReLU()``, MEOW's) the
    backward avoids torch's PReLU backward kernel (several times slower than an elementwise
    pass on CPU): ``∂s = ∂y`` where ``s > 0`` and ``a ∂y`` elsewhere (``leaky_relu``'s
    backward, the same products), ``∂a = ⟨∂y, \min(s, 0)⟩`` (equal to rounding: another
    summation order)."""

    @staticmethod
    def forward(ctx, s: Tensor, slope: Tensor, weight: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(s, slope, weight)
        return F.linear(F.prelu(s, slope), weight)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        s, slope, weight = ctx.saved_tensors
        if slope.numel() != 1:  # per-channel slopes: autograd's own backward
            with torch.enable_grad():
                s_ = s.detach().requires_grad_(ctx.needs_input_grad[0])
                slope_ = slope.detach().requires_grad_(ctx.needs_input_grad[1])
                weight_ = weight.detach().requires_grad_(ctx.needs_input_grad[2])
                out = F.linear(F.prelu(s_, slope_), weight_)
                wanted = [t for t in (s_, slope_, weight_) if t.requires_grad]
                grads = iter(torch.autograd.grad(out, wanted, grad))
            return tuple(next(grads) if t.requires_grad else None for t in (s_, slope_, weight_))
        grad_s = grad_slope = grad_weight = None
        if ctx.needs_input_grad[2]:
            grad_weight = grad.t().mm(F.prelu(s, slope))  # F.linear's backward for the weight
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            grad_act = grad.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_slope = torch.dot(grad_act.reshape(-1), s.clamp(max=0.0).reshape(-1)).reshape(slope.shape)
            if ctx.needs_input_grad[0]:
                grad_s = torch.ops.aten.leaky_relu_backward(grad_act, s, float(slope), False)
        return grad_s, grad_slope, grad_weight


class StandardizedGCN(nn.Module):
    r"""Two-layer GCN shared by every view, with a global standardisation (MEOW's encoder).

    .. math::
        H = \mathrm{PReLU}(\hat A\, \mathrm{Drop}(X W_1)), \quad Z = \hat A\, \mathrm{Drop}(H W_2),
        \quad \mathrm{out} = \frac{Z - \mathrm{mean}(Z)}{\sqrt{\mathrm{var}(Z) + 10^{-5}}}

    The mean and (biased) variance run over all ``N · d`` entries (the reference's
    ``LayerNorm(Z.size())`` without affine), not per node. :math:`\hat A` is any
    :class:`~graphcl.ops.SparseOperator`, so one module encodes every meta-path view.

    Args:
        channels: Input and output size.
        dropout: Dropout before each propagation.

    Shapes:
        - **x**: ``[N, channels]``, **adj**: a ``SparseOperator`` ``[N, N]`` -> ``[N, channels]``.
    """

    def __init__(self, channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels")
        self.dropout = check_float(dropout, "dropout", 0.0, 1.0, max_inclusive=False)
        self.lin1 = nn.Linear(self.channels, self.channels, bias=False)
        self.lin2 = nn.Linear(self.channels, self.channels, bias=False)
        self.act = nn.PReLU()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.channels)  # the reference's U(±1/sqrt(out))
        for lin in (self.lin1, self.lin2):
            nn.init.uniform_(lin.weight, -bound, bound)
        self.act.reset_parameters()

    def propagate(self, x: Tensor, adj: SparseOperator) -> Tensor:
        r"""The two layers without the standardisation: :math:`Z` ``[N, channels]``."""
        s = spmm(adj, dropout(self.lin1(x), self.dropout, self.training))
        h2 = _PReLULinear.apply(s, self.act.weight, self.lin2.weight)  # lin2(act(s)), act(s) not kept
        return spmm(adj, dropout(h2, self.dropout, self.training))

    def forward(self, x: Tensor, adj: SparseOperator) -> Tensor:
        return standardize(self.propagate(x, adj))  # keeps its output and one scalar, not Z

    def normalized(self, x: Tensor, adj: SparseOperator) -> Tensor:
        r"""Unit rows of the output, :math:`\mathrm{norm}(\mathrm{out}) = \mathrm{norm}(Z - \mathrm{mean}(Z))`:
        the standardisation's scale :math:`1/\sqrt{\mathrm{var}(Z) + 10^{-5}} > 0` is common to
        all entries, so the row normalisation removes it (and its gradient is zero). The
        variance is skipped: the same function, one reduction and two passes over ``[N, channels]``
        fewer, forward and backward (values equal to rounding). Autograd keeps the output and
        the row norms, not :math:`Z` (:func:`graphcl.nn.normalization.row_normalize`)."""
        return self.unit_rows(self.propagate(x, adj))

    @staticmethod
    def unit_rows(z: Tensor) -> Tensor:
        r""":meth:`normalized` from :math:`Z` (:meth:`propagate`'s output): :math:`\mathrm{norm}(Z - \mathrm{mean}(Z))`."""
        return row_normalize(z, center=True)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, dropout={self.dropout})"


_BLOCK_ELEMENTS = 1 << 20  # entries per row block of the attention (2^20 floats: 4 MB)


def _tanh_blocks(z: Tensor, weight: Tensor, bias: Tensor, block: int):
    """``(rows, tanh(W z[rows] + b))`` for consecutive row blocks of ``z``."""
    for s in range(0, z.size(0), block):
        rows = slice(s, s + block)
        yield rows, torch.tanh(torch.addmm(bias, z[rows], weight.t()))


class _SemanticAttentionFn(torch.autograd.Function):
    r"""Semantic attention over a list of views, in row blocks: ``(z [N, c], beta [V])``.

    Forward: :math:`s_v = \frac1N\sum_i t_{vi}`, :math:`t_{vi} = \tanh(W z_v(i) + b)` (row
    blocks), :math:`\beta = \mathrm{softmax}(S a^\top)`, :math:`z = \sum_v \beta_v z_v`.
    Backward, with :math:`g = \partial/\partial z` and :math:`\gamma_v = \partial/\partial\beta_v
    + \langle g, z_v\rangle`: :math:`\partial/\partial w_v = \beta_v(\gamma_v - \sum_u \beta_u\gamma_u)`
    (the scores), :math:`\partial/\partial a = \sum_v (\partial/\partial w_v)\, s_v`,
    :math:`\partial/\partial s_v = (\partial/\partial w_v)\, a`, and, recomputing each block's
    :math:`t`: :math:`\partial/\partial z_v(i) = \beta_v g_i + \frac1N (\partial_{s_v} \odot (1 - t_{vi}^2)) W`,
    :math:`\partial/\partial W = \frac1N\sum_{v,i} (\partial_{s_v} \odot (1 - t_{vi}^2))^\top z_v(i)`,
    :math:`\partial/\partial b = \frac1N\sum_{v,i} \partial_{s_v} \odot (1 - t_{vi}^2)`.
    Keeps the views and ``[V, c]`` summaries only; each view's gradient is one ``[N, c]`` tensor.
    """

    @staticmethod
    def forward(ctx, weight: Tensor, bias: Tensor, att: Tensor, *views: Tensor):  # type: ignore[override]
        n, c = views[0].shape
        block = max(1, _BLOCK_ELEMENTS // max(1, c))
        summary = views[0].new_zeros(len(views), weight.size(0))
        for v, z in enumerate(views):
            for _, t in _tanh_blocks(z, weight, bias, block):
                summary[v] += t.sum(dim=0)
        summary.div_(n)
        beta = torch.softmax((summary @ att.t()).squeeze(1), dim=0)
        out = views[0] * beta[0]
        for v in range(1, len(views)):
            out.add_(views[v] * beta[v])
        ctx.save_for_backward(weight, bias, att, summary, beta, *views)
        ctx.block = block
        return out, beta

    @staticmethod
    def backward(ctx, grad_z: Tensor, grad_beta: Tensor):  # type: ignore[override]
        weight, bias, att, summary, beta, *views = ctx.saved_tensors
        n = views[0].size(0)
        gamma = grad_beta + torch.stack([(grad_z * z).sum() for z in views])
        grad_scores = beta * (gamma - (beta * gamma).sum())  # softmax backward, [V]
        grad_att = (grad_scores @ summary).unsqueeze(0) if ctx.needs_input_grad[2] else None
        grad_summary = grad_scores.unsqueeze(1) * att / n  # [V, c], the 1/N of the mean folded in
        need_w, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_w = torch.zeros_like(weight) if need_w else None
        grad_b = torch.zeros_like(bias) if need_b else None
        grad_views = []
        for v, z in enumerate(views):
            need_z = ctx.needs_input_grad[3 + v]
            gz = torch.mul(grad_z, beta[v]) if need_z else None
            if need_z or need_w or need_b:
                for rows, t in _tanh_blocks(z, weight, bias, ctx.block):
                    g = t.mul_(t).neg_().add_(1.0).mul_(grad_summary[v])  # d/d(pre-activation), [block, c]
                    if need_z:
                        gz[rows].addmm_(g, weight)
                    if need_w:
                        grad_w.addmm_(g.t(), z[rows])
                    if need_b:
                        grad_b += g.sum(dim=0)
            grad_views.append(gz)
        return (grad_w, grad_b, grad_att, *grad_views)


class SemanticAttention(nn.Module):
    r"""View-level attention (HAN / HeCo): fuses ``V`` views of the same nodes.

    .. math::
        w_v = a^\top \frac{1}{N}\sum_i \tanh(W z_v(i) + b), \quad
        \beta = \mathrm{softmax}(w), \quad z = \sum_v \beta_v z_v

    The summaries :math:`\frac1N\sum_i \tanh(W z_v(i) + b)` are computed, and differentiated, in
    row blocks, and the views are never stacked: autograd keeps the ``V`` views themselves and
    nothing of size ``V × N × channels`` besides; the backward pass writes one gradient per view.

    Args:
        channels: Embedding size.
        dropout: Dropout on the attention vector ``a``.

    Shapes:
        - **views**: ``V`` tensors ``[N, channels]`` (a list, or one ``[V, N, channels]``
          tensor) -> ``(z [N, channels], beta [V])``.
    """

    def __init__(self, channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels")
        self.dropout = check_float(dropout, "dropout", 0.0, 1.0, max_inclusive=False)
        self.lin = nn.Linear(self.channels, self.channels)
        self.att = nn.Parameter(torch.empty(1, self.channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_normal_(self.lin.weight, gain=1.414)
        nn.init.zeros_(self.lin.bias)
        nn.init.xavier_normal_(self.att, gain=1.414)

    def forward(self, views: Union[Tensor, Sequence[Tensor]]) -> Tuple[Tensor, Tensor]:
        views = list(views.unbind(0)) if isinstance(views, Tensor) and views.dim() == 3 else views
        if isinstance(views, Tensor) or len(views) == 0 or any(
                v.dim() != 2 or v.size(1) != self.channels or v.size(0) != views[0].size(0) for v in views):
            shape = tuple(views.shape) if isinstance(views, Tensor) else [tuple(v.shape) for v in views]
            raise GraphclInputError(f"views must be V >= 1 tensors [N, {self.channels}] (or one [V, N, "
                                    f"{self.channels}] tensor), got {shape}")
        att = dropout(self.att, self.dropout, self.training)
        z, beta = _SemanticAttentionFn.apply(self.lin.weight, self.lin.bias, att, *views)
        return z, beta

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"


class ProjectionHead(nn.Module):
    r"""Contrastive projection :math:`P(x) = \mathrm{norm}(\tanh(W x + b))` (unit rows).

    Shapes:
        - **x**: ``[N, in_channels]`` -> ``[N, out_channels]``, L2-normalised rows.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None) -> None:
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.lin = nn.Linear(check_int(in_channels, "in_channels"), check_int(out_channels, "out_channels"))

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def activations(self, x: Tensor) -> Tensor:
        """:math:`\tanh(W x + b)`, before the row normalisation."""
        return torch.tanh(self.lin(x))

    def forward(self, x: Tensor) -> Tensor:
        return row_normalize(self.activations(x))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.lin.in_features} -> {self.lin.out_features})"
