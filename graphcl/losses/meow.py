r"""MEOW's losses (meow.md §2.5, §2.6, §8): the cluster-weighted InfoNCE, the prototype
(ProtoNCE) term and PCL's per-cluster concentration."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from graphcl.errors import GraphclInputError
from graphcl.ops.scatter import scatter
from graphcl.validation import check_int, check_positive

_CHUNK_ELEMENTS = 1 << 20  # default bound on one [chunk, N] block (4 MB in float32: cache-friendly)


def check_views(u: Tensor, v: Tensor) -> None:
    """Validate two views ``u, v``: floating, 2-D, non-empty, of the same shape ``[N, d]``, dtype
    and device."""
    for name, t in (("u", u), ("v", v)):
        if not isinstance(t, Tensor) or t.dim() != 2 or t.numel() == 0 or not torch.is_floating_point(t):
            raise GraphclInputError(f"{name} must be a non-empty floating 2-D tensor [N, d], got {getattr(t, 'shape', t)}")
    if u.shape != v.shape:
        raise GraphclInputError(f"u and v must have the same shape [N, d], got {tuple(u.shape)} and {tuple(v.shape)}")
    if u.dtype != v.dtype or u.device != v.device:
        raise GraphclInputError(f"u and v must share dtype and device, got {u.dtype}/{u.device} and {v.dtype}/{v.device}")


def _check_label_vector(c, n: int, name: str, device: torch.device, n_clusters: Optional[int] = None) -> Tensor:
    if not isinstance(c, Tensor) or c.dim() != 1 or c.numel() != n or torch.is_floating_point(c) or c.dtype == torch.bool:
        raise GraphclInputError(f"{name} must be a 1-D integer tensor of length {n}, got {getattr(c, 'shape', c)}")
    if n and int(c.min()) < 0:
        raise GraphclInputError(f"{name} holds a negative cluster id")
    if n_clusters is not None and n and int(c.max()) >= n_clusters:
        raise GraphclInputError(f"{name} holds cluster id {int(c.max())}, but only {n_clusters} centroids were given")
    return c.to(device=device, dtype=torch.long)


def check_clusterings(clusterings: Sequence[Tensor], n: int, device: torch.device) -> Tensor:
    """Stack ``R >= 1`` label vectors of length ``n`` into an ``[R, n]`` long tensor."""
    if isinstance(clusterings, Tensor):
        clusterings = [clusterings] if clusterings.dim() == 1 else list(clusterings)
    if len(clusterings) == 0:
        raise GraphclInputError("clusterings must hold at least one label tensor")
    if len(clusterings) > 255:
        raise GraphclInputError(f"at most 255 clusterings are supported, got {len(clusterings)}")
    return torch.stack([_check_label_vector(c, n, f"clusterings[{r}]", device) for r, c in enumerate(clusterings)])


def check_contrast_inputs(u: Tensor, v: Tensor, clusterings: Sequence[Tensor]) -> Tensor:
    """Validate the inputs of a cluster-weighted contrast: the views (:func:`check_views`) and the
    clusterings (:func:`check_clusterings`), of which at least one must have two non-empty
    clusters (else no anchor has a negative and the loss is undefined). Returns the ``[R, N]``
    labels."""
    check_views(u, v)
    labels = check_clusterings(clusterings, u.size(0), u.device)
    if bool((labels == labels[:, :1]).all()):
        raise GraphclInputError(
            "every clustering puts all nodes into one cluster: no anchor has a negative, the loss is undefined"
        )
    return labels


def _pair_weights(labels: Tensor, rows: slice, dtype: torch.dtype) -> Tensor:
    r"""``w_ij = sum_r 1[c_r(i) != c_r(j)]`` for the rows ``i`` of one block: ``[b, N]``.

    ``labels`` is ``[R, N]`` int32; the count is summed in uint8 (``R <= 255``) and converted
    once, several times faster than adding float masks."""
    w = (labels[0, rows, None] != labels[0, None, :]).view(torch.uint8)
    for r in range(1, labels.size(0)):
        w = w + (labels[r, rows, None] != labels[r, None, :]).view(torch.uint8)
    return w.to(dtype)


def _fixed_shift(u: Tensor, v: Tensor, inv_t: float) -> Optional[Tensor]:
    r"""Per-row bound :math:`b_i = \lVert u_i\rVert \max_j\lVert v_j\rVert / T \ge |u_i^\top v_j|/T`
    ``[N, 1]``, or ``None`` when :math:`e^{-2 b_i}` could underflow in ``u``'s dtype.

    Shifting row ``i`` by :math:`b_i` keeps every term in :math:`[e^{-2b_i}, 1]`: nothing
    overflows or underflows, with no pass over the block to find a row maximum (the usual case:
    L2-normalised inputs and ``T`` above about 0.026 in float32)."""
    bound = u.detach().norm(dim=1, keepdim=True) * (v.detach().norm(dim=1).max() * inv_t)
    limit = -0.9 * math.log(torch.finfo(u.dtype).tiny)
    return bound if float(bound.max()) * 2.0 <= limit else None


class _MeanWeightedLogSumExp(torch.autograd.Function):
    r"""``mean_i log sum_j w_ij exp(u_i·v_j / T)`` with cluster weights, in row blocks.

    One pass over ``[b, N]`` blocks computes the value **and** (when ``with_grad``) its
    gradient: a block holds whole rows, so each row's normaliser is known inside it, and the
    upstream gradient of a mean is one scalar. So :math:`\partial/\partial u_i = \frac{1}{NT}
    \sum_j p_{ij} v_j` and :math:`\partial/\partial v_j = \frac{1}{NT}\sum_i p_{ij} u_i`, with
    :math:`p_{ij} = w_{ij} e^{u_i^\top v_j/T} / \sum_k w_{ik} e^{u_i^\top v_k/T}`, are
    accumulated on the spot and the backward pass only scales them: three ``N^2 d`` matmuls in
    all instead of four (forward, then recompute + two in backward), and each weight block is
    built once. Peak extra memory is ``O(b·N)``; autograd keeps two ``[N, d]`` tensors.

    Each row is shifted by the bound of :func:`_fixed_shift` or, when that could underflow,
    by its maximum over the pairs of positive weight (so the terms that count never all
    underflow). Every row must have a pair of positive weight (the caller checks).
    """

    @staticmethod
    def forward(ctx, u: Tensor, v: Tensor, labels: Tensor, inv_t: float, chunk: int, with_grad: bool) -> Tensor:  # type: ignore[override]
        n = u.size(0)
        bound = _fixed_shift(u, v, inv_t)
        total = u.new_zeros(())
        grad_u = torch.zeros_like(u) if with_grad else None
        grad_v = torch.zeros_like(v) if with_grad else None
        for s in range(0, n, chunk):
            rows = slice(s, min(s + chunk, n))
            w = _pair_weights(labels, rows, u.dtype)
            if bound is not None:
                shift = bound[rows]
                e = torch.addmm(-shift, u[rows], v.t(), alpha=inv_t).exp_()
            else:
                logits = (u[rows] * inv_t) @ v.t()
                zero = w == 0
                shift = logits.masked_fill(zero, float("-inf")).amax(dim=1, keepdim=True)
                e = logits.sub_(shift).masked_fill_(zero, float("-inf")).exp_()
            den = e.mul_(w).sum(dim=1, keepdim=True)
            total += (torch.log(den) + shift).sum()
            if with_grad:
                p = e.div_(den)
                grad_u[rows] = p @ v
                grad_v.addmm_(p.t(), u[rows])
        if with_grad:
            ctx.save_for_backward(grad_u.mul_(inv_t / n), grad_v.mul_(inv_t / n))
        return total / n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        grad_u, grad_v = ctx.saved_tensors
        return grad_out * grad_u, grad_out * grad_v, None, None, None, None


class ClusterWeightedInfoNCE(nn.Module):
    r"""MEOW's InfoNCE with negatives weighted by ``R`` clusterings (meow.md §2.6).

    With :math:`s_{ij} = \exp(u_i^\top v_j / T)` and
    :math:`w_{ij} = \sum_{r=1}^R \mathbb 1[c_r(i) \ne c_r(j)] \in \{0, \dots, R\}`,

    .. math::
        \mathcal L = -\frac{1}{N} \sum_{i=1}^{N}
            \log \frac{s_{ii}}{\sum_{j} w_{ij}\, s_{ij}} .

    :math:`w_{ii} = 0`: the positive is **not** in the denominator, and a negative that shares
    :math:`i`'s cluster in every clustering (a presumed false negative) has weight 0.

    **Anchors without negatives.** Anchor :math:`i` has all weights 0 (an empty denominator,
    an infinite term) exactly when every clustering puts all ``N`` nodes into :math:`i`'s
    cluster, and then every anchor does: it is all anchors or none. In that case the loss is
    undefined and :class:`GraphclInputError` is raised (rather than returning ``inf``, or a
    gradient-free 0 that would hide a collapsed clustering); the check is ``O(R·N)`` and
    precedes the ``O(N^2 d)`` pass. Otherwise every term is finite.

    **Cost.** ``O(N^2 (d + R))`` time. No ``N × N`` tensor exists: the denominator is computed
    in blocks of ``chunk_size`` whole rows by a hand-written autograd function, each block's
    weights by comparing labels. Since a block holds whole rows and the loss is a mean, the
    same pass over a block also accumulates the gradients of ``u`` and ``v`` (when gradients
    are enabled and ``u`` or ``v`` requires them), and backward only scales them: three
    ``N^2 d`` matmuls in all, and peak extra memory ``O(chunk_size · N)`` (autograd keeps two
    ``[N, d]`` tensors). A forward pass with gradients enabled thus costs the gradient work
    even if it is never back-propagated: evaluate under ``torch.no_grad()``. Second
    derivatives are not supported. Each row is shifted by the bound
    :math:`\lVert u_i\rVert\max_j\lVert v_j\rVert/T` of its logits, or by its maximum over the
    weighted pairs where that bound could underflow, so any temperature and unnormalised
    inputs are safe.

    Why compare labels per block rather than the scatter identity of meow.md §8
    (:math:`\sum_j w_{ij}s_{ij} = R\sum_j s_{ij} - \sum_r \sum_{j: c_r(j)=c_r(i)} s_{ij}`):
    that subtraction cancels catastrophically when the zero-weight pairs (the positive and the
    presumed false negatives, typically the most similar ones) dominate a row, and can even go
    negative in floating point; the gradient needs the per-pair weight anyway. The
    comparison costs ``O(R)`` elementwise passes per block, less than the ``d``-deep matmul.

    Args:
        temperature: ``T > 0`` (MEOW: 0.4 on ACM, 0.9 elsewhere).
        chunk_size: Rows per block (``None``: about :math:`2^{20}/N`, i.e. 4 MB float32 blocks;
            smaller blocks stay in cache and run faster than large ones).

    Shapes:
        - **u**: ``[N, d]`` anchors (MEOW: the coarse view, L2-normalised by its projection).
        - **v**: ``[N, d]`` samples (the fine view); ``v_i`` is the positive of ``u_i``.
        - **clusterings**: ``R >= 1`` label tensors ``[N]`` (long), or an ``[R, N]`` tensor.
        - **output**: scalar.
    """

    def __init__(self, temperature: float = 1.0, chunk_size: Optional[int] = None) -> None:
        super().__init__()
        self.temperature = check_positive(temperature, "temperature")
        self.chunk_size = check_int(chunk_size, "chunk_size", allow_none=True)

    def reset_parameters(self) -> None:  # no parameters; part of the module protocol
        pass

    def forward(self, u: Tensor, v: Tensor, clusterings: Sequence[Tensor]) -> Tensor:
        labels = check_contrast_inputs(u, v, clusterings)
        chunk = self.chunk_size or max(1, _CHUNK_ELEMENTS // u.size(0))
        with_grad = torch.is_grad_enabled() and (u.requires_grad or v.requires_grad)
        # int32 labels: the per-block comparisons are the costliest elementwise pass.
        log_den = _MeanWeightedLogSumExp.apply(u, v, labels.to(torch.int32), 1.0 / self.temperature, chunk, with_grad)
        return log_den - (u * v).sum(dim=1).mean() / self.temperature

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(temperature={self.temperature}, chunk_size={self.chunk_size})"


class _MeanCrossEntropy(torch.autograd.Function):
    r"""``mean_i [log sum_k exp(u_i·w_k) - u_i·w_{c(i)}]`` (cross-entropy of the logits ``u W^T``)
    in row blocks, without an ``[N, K]`` tensor.

    As :class:`_MeanWeightedLogSumExp`: one pass over ``[b, K]`` blocks computes the value and
    (``with_grad``) the gradients :math:`\partial/\partial u_i = \frac1N\sum_k (p_{ik} - \delta_{k c(i)}) w_k`
    and :math:`\partial/\partial w_k = \frac1N\sum_i (p_{ik} - \delta_{k c(i)}) u_i` (``p`` the row
    softmax); backward only scales them. Each row is shifted by its maximum. Peak extra memory
    ``O(b · K)``.
    """

    @staticmethod
    def forward(ctx, u: Tensor, w: Tensor, labels: Tensor, chunk: int, with_grad: bool) -> Tensor:  # type: ignore[override]
        n = u.size(0)
        total = u.new_zeros(())
        grad_u = torch.zeros_like(u) if with_grad else None
        grad_w = torch.zeros_like(w) if with_grad else None
        for s in range(0, n, chunk):
            rows = slice(s, min(s + chunk, n))
            own = labels[rows].unsqueeze(1)
            t = u[rows] @ w.t()
            shift = t.amax(dim=1, keepdim=True)
            total -= t.gather(1, own).sum()
            e = t.sub_(shift).exp_()
            den = e.sum(dim=1, keepdim=True)
            total += (torch.log(den) + shift).sum()
            if with_grad:
                p = e.div_(den).scatter_add_(1, own, own.new_full(own.shape, -1, dtype=e.dtype))
                grad_u[rows] = p @ w
                grad_w.addmm_(p.t(), u[rows])
        if with_grad:
            ctx.save_for_backward(grad_u.div_(n), grad_w.div_(n))
        return total / n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        grad_u, grad_w = ctx.saved_tensors
        return grad_out * grad_u, grad_out * grad_w, None, None, None


class PrototypeLoss(nn.Module):
    r"""MEOW's prototype term (ProtoNCE with per-prototype temperatures; meow.md §2.6).

    For ``R`` clusterings with centroids :math:`\mu_{r,k}`, assignments :math:`c_r(i)` and
    concentrations :math:`\phi_{r,k}` (see :func:`cluster_concentration`),

    .. math::
        \mathcal L = \frac{1}{R}\sum_{r=1}^{R} -\frac{1}{N}\sum_{i=1}^{N}
            \log \frac{\exp(u_i^\top\mu_{r,c_r(i)} / \phi_{r,c_r(i)})}
                      {\sum_{k=1}^{K_r} \exp(u_i^\top\mu_{r,k} / \phi_{r,k})},

    i.e. the mean over ``r`` of ``F.cross_entropy(u @ mu_r.t() / phi_r, c_r)`` (``[N, K_r]`` logits). The reference
    multiplies the denominator by :math:`N/K_r`, which only adds the constant
    :math:`\log(N/K_r)` (no effect on gradients); it is dropped here.

    **Memory.** With ``chunk_size=None`` (the default, the reference's arithmetic) the logits are
    one ``[N, K_r]`` tensor per clustering, and autograd keeps several of that size: at
    :math:`10^6` targets and ``K = (100, 300)`` that is gigabytes. With a ``chunk_size`` the
    same loss is computed in blocks of ``chunk_size`` rows by a hand-written autograd function
    (the logits :math:`u\,(\mu_r/\phi_r)^\top`, a row softmax, and the gradients accumulated in
    the same pass, as :class:`ClusterWeightedInfoNCE`): peak extra memory ``O(chunk_size · K_r)``,
    the same value to float rounding (the division by :math:`\phi` moves onto the centroids).
    MEOW uses it with meta-node negatives (``negatives="meta"``, the linear-memory variant).

    Gradients flow into ``u`` and into ``centroids`` / ``concentration`` if they require them
    (MEOW passes them detached, from k-means on the fine view), in both forms.

    Args:
        chunk_size: Rows per block, ``"auto"`` for about :math:`2^{20} / \sum_r K_r` rows (blocks
            of about 4 MB float32 over all clusterings together, at least one row), or ``None``
            for the dense ``[N, K_r]`` logits.

    Shapes:
        - **u**: ``[N, d]`` anchors.
        - **centroids**: ``R`` tensors ``[K_r, d]``.
        - **labels**: ``R`` long tensors ``[N]`` with values in ``[0, K_r)``.
        - **concentration**: ``R`` positive tensors ``[K_r]``.
        - **output**: scalar.
    """

    def __init__(self, chunk_size: Union[int, str, None] = None) -> None:
        super().__init__()
        if chunk_size != "auto":
            chunk_size = check_int(chunk_size, "chunk_size", allow_none=True)
        self.chunk_size = chunk_size

    def reset_parameters(self) -> None:  # no parameters; part of the module protocol
        pass

    def forward(
        self, u: Tensor, centroids: Sequence[Tensor], labels: Sequence[Tensor], concentration: Sequence[Tensor]
    ) -> Tensor:
        if not isinstance(u, Tensor) or u.dim() != 2 or u.numel() == 0 or not torch.is_floating_point(u):
            raise GraphclInputError(f"u must be a non-empty floating 2-D tensor [N, d], got {getattr(u, 'shape', u)}")
        r = len(centroids)
        if r == 0 or len(labels) != r or len(concentration) != r:
            raise GraphclInputError(
                f"centroids, labels and concentration must be non-empty sequences of the same length, "
                f"got {len(centroids)}, {len(labels)}, {len(concentration)}"
            )
        for i, (mu, phi) in enumerate(zip(centroids, concentration)):
            self._check_prototypes(mu, phi, u.size(1), i)
        chunk = self.chunk_size
        if chunk == "auto":
            chunk = max(1, _CHUNK_ELEMENTS // sum(mu.size(0) for mu in centroids))
        total = u.new_zeros(())
        for i, (mu, c, phi) in enumerate(zip(centroids, labels, concentration)):
            c = _check_label_vector(c, u.size(0), f"labels[{i}]", u.device, mu.size(0))
            if chunk is None:
                total = total + F.cross_entropy((u @ mu.t()) / phi, c)
            else:
                w = mu / phi.unsqueeze(1)
                with_grad = torch.is_grad_enabled() and (u.requires_grad or w.requires_grad)
                total = total + _MeanCrossEntropy.apply(u, w, c, chunk, with_grad)
        return total / r

    @staticmethod
    def _check_prototypes(mu: Tensor, phi: Tensor, d: int, i: int) -> None:
        if not isinstance(mu, Tensor) or mu.dim() != 2 or mu.size(0) == 0 or mu.size(1) != d:
            raise GraphclInputError(f"centroids[{i}] must have shape [K, {d}], got {getattr(mu, 'shape', mu)}")
        if not isinstance(phi, Tensor) or phi.shape != (mu.size(0),):
            raise GraphclInputError(f"concentration[{i}] must have shape [{mu.size(0)}], got {getattr(phi, 'shape', phi)}")
        if not bool((phi > 0).all() & torch.isfinite(phi).all()):
            raise GraphclInputError(f"concentration[{i}] must be positive and finite")

    def __repr__(self) -> str:
        if self.chunk_size is None:
            return f"{self.__class__.__name__}()"
        return f"{self.__class__.__name__}(chunk_size={self.chunk_size!r})"


def cluster_concentration(
    v: Tensor, centroids: Tensor, labels: Tensor, temperature: float, smoothing: float = 10.0, kind: str = "distance"
) -> Tensor:
    r"""PCL's per-cluster concentration :math:`\phi_k`, used as prototype temperatures.

    .. math::
        \phi_k = \frac{\frac{1}{n_k}\sum_{i: c(i)=k} \lVert v_i - \mu_k\rVert}{\log(n_k + \alpha)},

    with :math:`\alpha` = ``smoothing``. Then, as in PCL and MEOW: clusters with at most one
    member get the largest :math:`\phi` of the others; :math:`\phi` is clipped to its 10th and
    90th percentiles (linear interpolation, as ``numpy.percentile``); finally
    :math:`\phi \leftarrow T\,\phi / \overline{\phi}`, so the mean concentration is the
    temperature ``T``. A :math:`\phi_k` of 0 after clipping (members all on the centroid) is
    raised to the smallest positive one, so every concentration is a usable temperature; if
    none is positive (no cluster has two members, or all distances are 0), every
    :math:`\phi_k = T`.

    With ``kind="distance"`` (the default, PCL's) the spread is the Euclidean distance
    :math:`\lVert v_i - \mu_k\rVert`. MEOW's reference (meow.md §2.5, §9.8) uses, in its place,
    the square root of the inner product :math:`v_i^\top\mu_k` returned by its IP index (a
    similarity, so tight clusters get *large* temperatures): ``kind="similarity"`` does that,
    with the inner product clamped at 0 (where the reference's square root gives NaN). PCL
    uses :math:`\alpha = 10` (the default); MEOW's code uses 5.

    Computed with scatter sums (no loop over clusters), without gradient.

    Args:
        v: Points ``[N, d]`` that were clustered.
        centroids: ``[K, d]``.
        labels: ``[N]`` long cluster ids in ``[0, K)``.
        temperature: ``T > 0``, the mean of the result.
        smoothing: :math:`\alpha > 0` in :math:`\log(n_k + \alpha)`.
        kind: ``"distance"`` or ``"similarity"`` (the reference's; see above).

    Returns:
        ``[K]`` positive concentrations (detached), on ``v``'s device and dtype.
    """
    temperature = check_positive(temperature, "temperature")
    smoothing = check_positive(smoothing, "smoothing")
    if kind not in ("distance", "similarity"):
        raise GraphclInputError(f"kind must be 'distance' or 'similarity', got {kind!r}")
    if not isinstance(v, Tensor) or v.dim() != 2 or v.numel() == 0 or not torch.is_floating_point(v):
        raise GraphclInputError(f"v must be a non-empty floating 2-D tensor [N, d], got {getattr(v, 'shape', v)}")
    if not isinstance(centroids, Tensor) or centroids.dim() != 2 or centroids.size(0) == 0 or centroids.size(1) != v.size(1):
        raise GraphclInputError(f"centroids must have shape [K, {v.size(1)}], got {getattr(centroids, 'shape', centroids)}")
    k = centroids.size(0)
    labels = _check_label_vector(labels, v.size(0), "labels", v.device, k)
    with torch.no_grad():
        if kind == "similarity":
            dist = (v * centroids.to(v.dtype)[labels]).sum(dim=1).clamp_min(0).sqrt()
        else:
            dist = (v - centroids.to(v.dtype)[labels]).norm(dim=1)
        counts = torch.bincount(labels, minlength=k).to(v.dtype)
        mean_dist = scatter(dist, labels, dim=0, dim_size=k, reduce="sum") / counts.clamp_min(1)
        phi = mean_dist / torch.log(counts + smoothing)
        multi = counts > 1
        fill = phi[multi].max() if bool(multi.any()) else phi.new_ones(())
        phi = torch.where(multi, phi, fill)
        lo, hi = torch.quantile(phi, torch.tensor([0.1, 0.9], dtype=phi.dtype, device=phi.device))
        phi = phi.clamp(lo, hi)
        positive = phi > 0
        if not bool(positive.any()):
            return torch.full_like(phi, temperature)
        # A cluster whose members all sit on its centroid would get phi = 0 (infinite logits).
        phi = phi.clamp_min(phi[positive].min())
        return temperature * phi / phi.mean()


def estimate_pairs_seconds(num_targets: int, dim: int, n_clusterings: int = 2, temperature: float = 0.5,
                           device: Any = "cpu", sample_rows: int = 256, n_clusters: int = 100) -> float:
    r"""Measured estimate of one epoch of :class:`ClusterWeightedInfoNCE` (value and gradients)
    on ``num_targets`` targets with ``dim``-wide views and ``n_clusterings`` clusterings.

    Times ``b = min(sample_rows, max(8, 2^24 / N))`` anchor rows against all ``N`` samples
    (after a one-row warm-up) with random L2-normalised views and random labels, in the loss's
    own row blocks, and scales by ``N / b``: the loss is a sum of independent rows, each
    ``O(N (d + R))``. So the measurement itself costs about ``b / N`` of an epoch (seconds at
    10⁶ targets, where the epoch would take days) and ``O(N · dim)`` memory.
    """
    import time

    n = check_int(num_targets, "num_targets")
    rows = min(check_int(sample_rows, "sample_rows"), max(8, (1 << 24) // n), n)
    dim = check_int(dim, "dim")
    r = check_int(n_clusterings, "n_clusterings")
    inv_t = 1.0 / check_positive(temperature, "temperature")
    gen = torch.Generator().manual_seed(0)
    v = F.normalize(torch.randn(n, dim, generator=gen), dim=1).to(device)
    labels = torch.randint(0, min(n_clusters, n), (r, n), generator=gen).to(device=device, dtype=torch.int32)
    chunk = max(1, _CHUNK_ELEMENTS // n)
    seconds = 0.0
    for b in (1, rows):  # the first pass warms up the allocator and kernels
        u = v[:b].clone()
        t0 = time.perf_counter()
        _MeanWeightedLogSumExp.apply(u, v, labels, inv_t, min(chunk, b), True)
        if v.device.type == "cuda":
            torch.cuda.synchronize(v.device)
        seconds = time.perf_counter() - t0
    return seconds * n / rows
