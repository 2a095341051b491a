r"""The neighbour-contrastive loss of Graph-MLP / SCGC / SCGC* with an exact, blockwise
all-pairs denominator."""

from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.ops.scatter import scatter
from graphcl.ops.similarity import edge_cosine_similarity, l2_normalize
from graphcl.validation import check_bool, check_edge_index, check_edge_weight, check_int, check_positive

# With |s| <= 1 every logit is at most 1/T, so exp(s/T - 1/T) needs no per-row maximum as long as
# exp(-2/T) stays a normal float32 (1/T <= 40). The shifted block is then symmetric, and only the
# upper block-triangle is computed (half the work). Colder temperatures use exact row maxima.
_MAX_FIXED_SHIFT_INV_T = 40.0


def _exp_block(zn: Tensor, start: int, stop: int, col0: int, inv_t: float, shift: Tensor, out: Tensor) -> Tensor:
    """``exp(S[start:stop, col0:]/T - shift)`` with ``s_ii := 0``, written into ``out``.

    The scale and shift are folded into one ``addmm``: the block is written once and then
    exponentiated in place. ``shift`` is ``[b, 1]``.
    """
    block = torch.addmm(-shift, zn[start:stop] * inv_t, zn[col0:].t(), out=out)
    block.exp_()
    rows = torch.arange(stop - start, device=zn.device)
    block[rows, rows + start - col0] = torch.exp(-shift).view(-1)
    return block


def _zero_diagonal(block: Tensor, start: int, stop: int, col0: int) -> None:
    rows = torch.arange(stop - start, device=block.device)
    block[rows, rows + start - col0] = 0.0


class _AllPairsLogSumExp(torch.autograd.Function):
    r"""``out_i = log sum_j exp(s_ij / T)`` over all ``j`` (``s_ii := 0``), in row blocks.

    Autograd saves only ``zn`` ``[N, d]`` and ``out`` ``[N]``; the backward pass recomputes
    each ``[b, N]`` block into one reused buffer, so peak memory is ``O(b·N)`` in both passes.
    For ``1/T <= 40`` only: with the fixed shift ``1/T`` the shifted matrix ``E`` is
    symmetric and each pass visits only the blocks on and above the diagonal (colder
    temperatures go through :class:`_RowsLogSumExp`).
    """

    @staticmethod
    def forward(ctx, zn: Tensor, inv_t: float, block_size: int) -> Tensor:  # type: ignore[override]
        n = zn.size(0)
        buf = zn.new_empty(min(block_size, n) * n)
        den = zn.new_zeros(n)  # sum_j exp(s_ij/T - 1/T)
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            shift = zn.new_full((stop - start, 1), inv_t)
            e = _exp_block(zn, start, stop, start, inv_t, shift, buf[: (stop - start) * (n - start)].view(stop - start, -1))
            den[start:stop] += e.sum(dim=1)
            den[stop:] += e[:, stop - start :].sum(dim=0)  # E is symmetric: the mirrored blocks
        out = den.log_().add_(inv_t)
        ctx.save_for_backward(zn, out)
        ctx.inv_t, ctx.block_size = inv_t, block_size
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        zn, out = ctx.saved_tensors
        inv_t, block_size = ctx.inv_t, ctx.block_size
        n, d = zn.shape
        buf = zn.new_empty(min(block_size, n) * n)
        # d out_i / d s_ij = P_ij / T with P = softmax over j != i (the diagonal is constant).
        # P_ij = E_ij * exp(1/T - out_i) with E symmetric, so with c_i = g_i exp(1/T - out_i) / T:
        # grad_i = c_i (E' zn)_i + (E' (c * zn))_i,  E' = E with a zero diagonal.
        c = grad_out * torch.exp(inv_t - out) * inv_t
        y = torch.cat([zn, c[:, None] * zn], dim=1)  # [N, 2d]
        r = torch.zeros_like(y)
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            shift = zn.new_full((stop - start, 1), inv_t)
            e = _exp_block(zn, start, stop, start, inv_t, shift, buf[: (stop - start) * (n - start)].view(stop - start, -1))
            _zero_diagonal(e, start, stop, start)
            r[start:stop] += e @ y[start:]
            r[stop:].addmm_(e[:, stop - start :].t(), y[start:stop])
        return c[:, None] * r[:, :d] + r[:, d:], None, None


class _RowsLogSumExp(torch.autograd.Function):
    r"""``out_i = log sum_j exp(s_ij / T)`` for rows ``zr`` against columns ``zc``, with
    ``s_{i, self_col_i} := 0`` (``self_col_i = -1``: no such column), in row blocks.

    The rectangular case of the all-pairs denominator: a shard's rows against every node.
    Saves only the inputs and ``out``; the backward pass recomputes each ``[b, M]`` block, so
    peak memory is ``O(b·M)``. Each logit is shifted by ``1/T`` (``|s| <= 1``) when
    ``1/T <= 40``, else by its row's maximum.
    """

    @staticmethod
    def forward(ctx, zr: Tensor, zc: Tensor, self_col: Tensor, inv_t: float, block_size: int) -> Tensor:  # type: ignore[override]
        n, m = zr.size(0), zc.size(0)
        buf = zr.new_empty(min(block_size, n) * m)
        out = zr.new_empty(n)
        fixed = inv_t <= _MAX_FIXED_SHIFT_INV_T
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            logits = torch.mm(zr[start:stop] * inv_t, zc.t(), out=buf[: (stop - start) * m].view(stop - start, m))
            rows, cols = _self_entries(self_col, start, stop)
            logits[rows, cols] = 0.0
            shift = torch.full((stop - start, 1), inv_t, dtype=zr.dtype, device=zr.device) if fixed else logits.amax(dim=1, keepdim=True)
            out[start:stop] = logits.sub_(shift).exp_().sum(dim=1).log_() + shift.view(-1)
        ctx.save_for_backward(zr, zc, self_col, out)
        ctx.inv_t, ctx.block_size = inv_t, block_size
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        zr, zc, self_col, out = ctx.saved_tensors
        inv_t, block_size = ctx.inv_t, ctx.block_size
        n, m = zr.size(0), zc.size(0)
        buf = zr.new_empty(min(block_size, n) * m)
        grad_r, grad_c = torch.zeros_like(zr), torch.zeros_like(zc)
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            # P_ij / T * g_i, with P_ij = exp(s_ij/T - out_i) <= 1 and no gradient through s_ii
            p = torch.addmm(-out[start:stop, None], zr[start:stop] * inv_t, zc.t(), out=buf[: (stop - start) * m].view(stop - start, m))
            p.exp_()
            rows, cols = _self_entries(self_col, start, stop)
            p[rows, cols] = 0.0
            p.mul_(grad_out[start:stop, None] * inv_t)
            grad_r[start:stop] = p @ zc
            grad_c.addmm_(p.t(), zr[start:stop])
        return grad_r, grad_c, None, None, None


def _self_entries(self_col: Tensor, start: int, stop: int) -> Tuple[Tensor, Tensor]:
    """(row-in-block, column) of the rows ``[start, stop)`` that have a self column."""
    cols = self_col[start:stop]
    rows = torch.nonzero(cols >= 0).view(-1)
    return rows, cols[rows]


def all_pairs_log_denominator(zn: Tensor, temperature: float, block_size: int = 256) -> Tensor:
    r"""Exact :math:`\log \sum_{j=1}^{N} \exp(s_{ij}/T)` per node with :math:`s_{ii}:=0`.

    Args:
        zn: L2-normalised embeddings ``[N, d]`` (so :math:`s_{ij} = zn_i^\top zn_j`).
        temperature: ``T > 0``.
        block_size: Rows per block ``b``; time ``O(N^2 d)``, memory ``O(bN)``.

    Returns:
        ``[N]`` log-denominators (differentiable w.r.t. ``zn``).
    """
    inv_t = 1.0 / check_positive(temperature, "temperature")
    block_size = check_int(block_size, "block_size")
    if inv_t <= _MAX_FIXED_SHIFT_INV_T:
        return _AllPairsLogSumExp.apply(zn, inv_t, block_size)
    # Colder: exact row maxima, no symmetry to exploit (both arguments are zn, so their
    # gradients add up to the all-pairs gradient).
    return _RowsLogSumExp.apply(zn, zn, torch.arange(zn.size(0), device=zn.device), inv_t, block_size)


def rows_log_denominator(
    zr: Tensor, zc: Tensor, self_index: Optional[Tensor], temperature: float, block_size: int = 256
) -> Tensor:
    r""":math:`\log \sum_{j} \exp(s_{ij}/T)` for some rows against all columns, with
    :math:`s_{i,\,\mathrm{self}(i)} := 0` — the denominator of a shard of nodes in
    distributed training, where ``zc`` is every node's embedding.

    Args:
        zr: L2-normalised row embeddings ``[n, d]``.
        zc: L2-normalised column embeddings ``[M, d]`` (may contain the rows themselves).
        self_index: ``[n]`` column of each row's own node (``-1``: none); ``None``: none.
        temperature: ``T > 0``.
        block_size: Rows per block; time ``O(n M d)``, memory ``O(block_size · M)``.

    Returns:
        ``[n]`` log-denominators, differentiable w.r.t. ``zr`` and ``zc``.
    """
    temperature = check_positive(temperature, "temperature")
    block_size = check_int(block_size, "block_size")
    if zr.dim() != 2 or zc.dim() != 2 or zr.size(1) != zc.size(1):
        raise GraphclInputError(f"zr [n, d] and zc [M, d] must share d, got {tuple(zr.shape)} and {tuple(zc.shape)}")
    if self_index is None:
        self_index = torch.full((zr.size(0),), -1, dtype=torch.long, device=zr.device)
    elif self_index.shape != (zr.size(0),) or (self_index.numel() and not -1 <= int(self_index.min()) <= int(self_index.max()) < zc.size(0)):
        raise GraphclInputError(f"self_index must be [{zr.size(0)}] with entries in [-1, {zc.size(0)})")
    return _RowsLogSumExp.apply(zr, zc, self_index.to(torch.long), 1.0 / temperature, block_size)


def estimate_all_pairs_seconds(
    num_nodes: int, dim: int, temperature: float, block_size: int = 256, device: Union[str, torch.device] = "cpu",
    sample_rows: int = 512,
) -> float:
    r"""Measured estimate of one epoch's exact all-pairs denominator (forward and backward) for
    ``num_nodes`` embeddings of size ``dim`` on ``device``.

    Times ``sample_rows`` rows against all ``N`` columns (forward and backward, after one warm-up)
    and scales by ``N / sample_rows``, halved for the symmetric blocks
    :func:`all_pairs_log_denominator` skips. Costs about ``2 · sample_rows · N · dim`` flops
    and ``O(N · dim + sample_rows · N)`` memory.
    """
    import time

    n = check_int(num_nodes, "num_nodes")
    rows = min(check_int(sample_rows, "sample_rows"), n)
    dim = check_int(dim, "dim")
    zc = l2_normalize(torch.randn(n, dim, device=device))
    zr = zc[:rows].clone().requires_grad_(True)
    idx = torch.arange(rows, device=zc.device)
    seconds = []
    for _ in range(2):  # the first pass warms up the allocator and kernels
        t0 = time.perf_counter()
        rows_log_denominator(zr, zc, idx, temperature, block_size).sum().backward()
        if zc.device.type == "cuda":
            torch.cuda.synchronize(zc.device)
        seconds.append(time.perf_counter() - t0)
    factor = n / rows if n > rows else 1.0
    return seconds[-1] * factor * (0.5 if n > rows else 1.0)


class _FixedShiftLogNumerator(torch.autograd.Function):
    """``log sum_j W_ij exp(s_ij/T)`` per row with the fixed shift ``1/T``, in chunks of pairs.

    Saves only ``zn``, the pairs, their weights and the ``[N]`` sums: memory ``O(nnz + N·d +
    chunk·d)``; the backward pass recomputes each chunk's similarities."""

    @staticmethod
    def forward(ctx, zn, row, col, weight, inv_t: float, chunk: int):  # type: ignore[override]
        n = zn.size(0)
        num = zn.new_zeros(n)
        for s in range(0, row.numel(), chunk):
            r, c, w = row[s : s + chunk], col[s : s + chunk], weight[s : s + chunk]
            sim = ((zn[r] * zn[c]).sum(-1)).masked_fill(r == c, 0.0)  # s_ii := 0
            num.index_add_(0, r, w * torch.exp((sim - 1.0) * inv_t))
        ctx.save_for_backward(zn, row, col, weight, num)
        ctx.inv_t, ctx.chunk = inv_t, chunk
        return torch.log(num.clamp_min(torch.finfo(num.dtype).tiny)) + inv_t

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        zn, row, col, weight, num = ctx.saved_tensors
        inv_t, chunk = ctx.inv_t, ctx.chunk
        g = torch.where(num > 0, grad_out / num.clamp_min(torch.finfo(num.dtype).tiny), torch.zeros_like(num))
        g_row, g_col = torch.zeros_like(zn), torch.zeros_like(zn)
        for s in range(0, row.numel(), chunk):
            r, c, w = row[s : s + chunk], col[s : s + chunk], weight[s : s + chunk]
            loop = r == c
            sim = ((zn[r] * zn[c]).sum(-1)).masked_fill(loop, 0.0)
            coef = (g[r] * w * torch.exp((sim - 1.0) * inv_t) * inv_t).masked_fill(loop, 0.0)[:, None]
            g_row.index_add_(0, r, coef * zn[c])
            g_col.index_add_(0, c, coef * zn[r])
        return g_row + g_col, None, None, None, None, None


PAIR_CHUNK = 1 << 18  # pairs per chunk in the positive term


def positive_log_numerator(
    zn: Tensor, edge_index: Tensor, edge_weight: Tensor, temperature: float
) -> Tuple[Tensor, Tensor]:
    r""":math:`\log \sum_{(i,j)\in\mathrm{supp}\,W} W_{ij}\exp(s_{ij}/T)` per node.

    Self-pairs use :math:`s_{ii} := 0`. For ``1/T <= 40`` the sum is shifted by the fixed bound
    ``1/T`` (``|s| <= 1``, so nothing overflows and ``exp(-2/T)`` stays a normal float) and
    computed in chunks of pairs by a hand-written autograd function: memory ``O(nnz + N·d)``,
    never ``O(nnz·d)``. Colder temperatures use a per-row log-sum-exp (shifted by the row
    maximum), which keeps ``O(nnz)`` per-pair temporaries.

    Args:
        zn: L2-normalised embeddings ``[N, d]``.
        edge_index: ``[2, nnz]`` positive pairs ``(i, j)`` (rows are anchors).
        edge_weight: ``[nnz]`` non-negative weights :math:`W_{ij}`.
        temperature: ``T``.

    Returns:
        ``(log_num [N], has_positive [N] bool)``; ``log_num`` is 0 where a node has no pair of
        positive weight.
    """
    n = zn.size(0)
    row = edge_index[0]
    valid = edge_weight > 0  # only weighted pairs count
    has_pos = scatter(valid.to(zn.dtype), row, 0, n, reduce="sum") > 0
    inv_t = 1.0 / temperature
    if inv_t <= _MAX_FIXED_SHIFT_INV_T:
        log_num = _FixedShiftLogNumerator.apply(zn, row, edge_index[1], edge_weight.to(zn.dtype), inv_t, PAIR_CHUNK)
        return torch.where(has_pos, log_num, torch.zeros_like(log_num)), has_pos
    logits = edge_cosine_similarity(zn, edge_index, zero_self_loops=True) / temperature
    # A zero weight must not set the row maximum.
    shift = scatter(logits.detach().masked_fill(~valid, float("-inf")), row, 0, n, reduce="max")
    shift = torch.where(has_pos & torch.isfinite(shift), shift, torch.zeros_like(shift))
    num = scatter(edge_weight * torch.exp(logits - shift[row]), row, 0, n, reduce="sum")
    log_num = torch.where(has_pos, torch.log(num.clamp_min(torch.finfo(num.dtype).tiny)) + shift, torch.zeros_like(num))
    return log_num, has_pos


def check_pair_inputs(
    z: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], check_values: bool = True
) -> Tuple[Tensor, Tensor]:
    """Validate ``z [N, d]`` and the positive pairs; return ``(edge_index, edge_weight)`` with
    weights defaulting to ones, in ``z``'s dtype.

    With ``check_values=False`` only the shapes and dtypes are checked (no device-to-host
    synchronisation): the node ids are not compared with ``N`` and the weights are not checked
    for NaN/Inf or negative values. For callers that validated the same ``edge_index`` and
    ``edge_weight`` once (an estimator's ``fit``) and call the loss every step.
    """
    if not isinstance(z, Tensor) or z.dim() != 2 or z.size(0) == 0:
        raise GraphclInputError(f"z must be a non-empty 2-D tensor [N, d], got shape {tuple(getattr(z, 'shape', ()))}")
    if check_values:
        edge_index = check_edge_index(edge_index, z.size(0))
        edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    else:
        edge_index, edge_weight = _check_pair_shapes(edge_index, edge_weight)
    if edge_weight is None:
        return edge_index, torch.ones(edge_index.size(1), dtype=z.dtype, device=z.device)
    return edge_index, edge_weight.to(z.dtype)


def _check_pair_shapes(edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
    """The shape and dtype part of ``check_edge_index`` / ``check_edge_weight`` (no value read)."""
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphclInputError(f"edge_index must have shape [2, num_edges], got {tuple(getattr(edge_index, 'shape', ()))}")
    if torch.is_floating_point(edge_index) or edge_index.dtype == torch.bool or edge_index.is_complex():
        raise GraphclInputError(f"edge_index must hold integers (torch.long), got dtype {edge_index.dtype}")
    if edge_weight is not None and (
        not isinstance(edge_weight, Tensor) or edge_weight.dim() != 1 or edge_weight.numel() != edge_index.size(1)
    ):
        raise GraphclInputError(
            f"edge_weight must have shape [{edge_index.size(1)}] (one weight per edge), "
            f"got {tuple(getattr(edge_weight, 'shape', ()))}"
        )
    return edge_index.long(), edge_weight


def check_anchors(anchors: Tensor, num_rows: int, name: str = "anchors", check_values: bool = True) -> Tensor:
    """Validate a node subset (``anchors`` or ``node_index``): a non-empty 1-D integer tensor of
    distinct ids in ``[0, num_rows)`` (``check_values=False``: shape and dtype only, no
    device-to-host synchronisation)."""
    if not isinstance(anchors, Tensor) or anchors.dim() != 1 or torch.is_floating_point(anchors) or anchors.numel() == 0:
        raise GraphclInputError(f"{name} must be a non-empty 1-D integer tensor, got {getattr(anchors, 'shape', anchors)}")
    if not check_values:
        return anchors.long()
    if int(anchors.min()) < 0 or int(anchors.max()) >= num_rows:
        raise GraphclInputError(f"{name} holds ids outside [0, {num_rows})")
    if anchors.numel() != torch.unique(anchors).numel():
        raise GraphclInputError(f"{name} must hold distinct ids")
    return anchors.long()


def require_positive_pairs(has_pos: Tensor) -> None:
    """Raise when no node has a pair of positive weight (the loss would be undefined)."""
    if not bool(has_pos.any()):
        raise GraphclInputError("edge_index/edge_weight give no node a positive pair: the loss is undefined")


class NeighborContrastLoss(nn.Module):
    r"""Neighbour-contrastive loss (Graph-MLP's "Ncontrast"; SCGC and SCGC*).

    With cosine similarities :math:`s_{ij}` of the embeddings (:math:`s_{ii} := 0`) and a
    sparse positive-weight matrix :math:`W`,

    .. math::
        \mathcal{L} = -\frac{1}{|V_+|}\sum_{i\in V_+}
            \log\frac{\sum_j W_{ij}\, e^{s_{ij}/T}}{\sum_{j=1}^{N} e^{s_{ij}/T}},

    where :math:`V_+` are the nodes with at least one positive pair (every node once
    :math:`W` has self-loops). Which :math:`W` selects the method:

    * **SCGC**: :math:`W = \hat A^r` (``graphcl.ops.adjacency_power``);
    * **SCGC\* (IAC)**: the influence matrix :math:`W = \sum_{k=1}^r \hat A^k`
      (``graphcl.ops.influence_matrix``).

    The numerator is a scatter over the ``nnz`` entries of :math:`W`. The denominator runs
    over **all** ``N`` nodes exactly, in row blocks of ``block_size`` with a hand-written
    backward pass that recomputes each block, so memory — including what autograd saves — is
    ``O(block_size · N + nnz)``, never ``N × N``. Time is ``O(N^2 d + nnz·d)``.

    Differences from the reference code: ``temperature`` is a temperature
    (:math:`e^{s/T}`); the reference's ``tau`` is its inverse (``T = 1/tau``). The reference
    adds ``1e-8`` inside the log of the ratio; this is exact (the difference is below 1e-6 for
    ``N`` up to ``10^5``).

    Two mini-batch modes:

    * ``anchors`` (``[B]`` distinct positions in ``z``; what graphcl's estimators use): ``z``
      holds a batch of anchor nodes **and** their positive partners; every pair of
      :math:`W` whose row is an anchor enters the numerator (so one pass over a partition of
      the nodes into anchor batches uses every positive pair exactly once), and the
      denominator runs over the anchors: a uniform sample of the ``N`` terms, which estimates
      the full log-denominator up to the constant :math:`\log\frac{N}{B}` (no effect on
      gradients). Cost ``O(B^2 d + nnz_B d)``.
    * ``node_index`` (Graph-MLP style, ``[B]`` distinct node ids): the same formula on the
      induced sub-problem — positives are only the pairs of :math:`W` inside the batch
      (weights not renormalised) and the denominator runs over the batch.

    Args:
        temperature: ``T > 0``.
        block_size: Rows per block of the all-pairs denominator.
        check_inputs: Check the values of ``edge_index`` (node ids in ``[0, N)``),
            ``edge_weight`` (finite, non-negative), ``anchors`` and ``node_index`` on every call
            (the default: safe for standalone use). These checks read tensor values back to the
            host, a synchronisation per call on a GPU; with ``False`` only shapes and dtypes are
            checked, for a training loop that validated its graph once before the first step (as
            graphcl's estimators do in ``fit``). Out-of-range ids are then undefined behaviour.

    Shapes:
        - **z**: ``[N, d]`` embeddings (not necessarily normalised).
        - **edge_index**: ``[2, nnz]`` support of :math:`W`; **edge_weight**: ``[nnz]``
          (``None``: all ones).
        - **output**: scalar.
    """

    def __init__(self, temperature: float = 1.0, block_size: int = 256, check_inputs: bool = True) -> None:
        super().__init__()
        self.temperature = check_positive(temperature, "temperature")
        self.block_size = check_int(block_size, "block_size")
        self.check_inputs = check_bool(check_inputs, "check_inputs")

    def reset_parameters(self) -> None:  # no parameters; part of the module protocol
        pass

    def forward(
        self,
        z: Tensor,
        edge_index: Tensor,
        edge_weight: Optional[Tensor] = None,
        node_index: Optional[Tensor] = None,
        anchors: Optional[Tensor] = None,
    ) -> Tensor:
        edge_index, edge_weight = check_pair_inputs(z, edge_index, edge_weight, self.check_inputs)
        if node_index is not None and anchors is not None:
            raise GraphclInputError("pass node_index or anchors, not both")
        if node_index is not None:
            z, edge_index, edge_weight = self._restrict(z, edge_index, edge_weight, node_index, self.check_inputs)
        zn = l2_normalize(z)
        log_num, has_pos = positive_log_numerator(zn, edge_index, edge_weight, self.temperature)
        if anchors is not None:
            anchors = check_anchors(anchors, z.size(0), check_values=self.check_inputs)
            zn, log_num, has_pos = zn[anchors], log_num[anchors], has_pos[anchors]
        require_positive_pairs(has_pos)  # before the O(N^2) denominator
        log_den = all_pairs_log_denominator(zn, self.temperature, self.block_size)
        return (log_den - log_num)[has_pos].mean()

    @staticmethod
    def _restrict(z: Tensor, edge_index: Tensor, edge_weight: Tensor, node_index: Tensor, check_values: bool = True):
        from torch_geometric.utils import subgraph

        n = z.size(0)
        node_index = check_anchors(node_index, n, "node_index", check_values)
        sub_ei, sub_w = subgraph(node_index, edge_index, edge_weight, relabel_nodes=True, num_nodes=n)
        return z[node_index], sub_ei, sub_w

    def __repr__(self) -> str:
        extra = "" if self.check_inputs else ", check_inputs=False"
        return f"{self.__class__.__name__}(temperature={self.temperature}, block_size={self.block_size}{extra})"
