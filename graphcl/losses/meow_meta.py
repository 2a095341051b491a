r"""MEOW's cluster-weighted InfoNCE with meta-node negatives: linear in the number of targets.

PamC's idea (docs/pamc.md) applied to MEOW's negatives (docs/meow.md "Linear-time negatives").
"""

from __future__ import annotations

from typing import Sequence, Tuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from graphcl.losses.meow import ClusterWeightedInfoNCE, check_contrast_inputs
from graphcl.ops.scatter import scatter

_CHUNK_ELEMENTS = 1 << 20  # default bound on one [chunk, K_total] block (4 MB in float32)


def cluster_meta_nodes(v: Tensor, labels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Meta-nodes of ``R`` clusterings of ``v``, stacked: the cluster means and their masses.

    For clustering ``r`` with :math:`K_r = \max_i c_r(i) + 1` clusters,
    :math:`n_{r,k} = |\{j : c_r(j) = k\}|` and :math:`m_{r,k} = \frac1{n_{r,k}}\sum_{j: c_r(j)=k} v_j`
    (``0`` for an empty cluster). Computed with one scatter per clustering, with gradient into ``v``.

    Args:
        v: ``[N, d]``.
        labels: ``[R, N]`` long cluster ids (as :func:`graphcl.losses.meow.check_clusterings` returns).

    Returns:
        ``(meta [K_total, d], log_mass [K_total], own [N, R])``: the meta-nodes of all clusterings
        one after the other (:math:`K_{total} = \sum_r K_r`), :math:`\log n_{r,k}` (``-inf`` for an
        empty cluster, which so never counts), and each node's own row in ``meta`` per clustering.
    """
    metas, masses, own, offset = [], [], [], 0
    for c in labels:
        k = int(c.max()) + 1
        count = torch.bincount(c, minlength=k).to(v.dtype)
        metas.append(scatter(v, c, dim=0, dim_size=k, reduce="sum") / count.clamp_min(1).unsqueeze(1))
        masses.append(count.log())  # log 0 = -inf: an empty cluster has no weight
        own.append(c + offset)
        offset += k
    return torch.cat(metas), torch.cat(masses), torch.stack(own, dim=1)


class _MeanMetaLogSumExp(torch.autograd.Function):
    r"""``mean_i log sum_k 1[k not own] n_k exp(u_i·m_k / T)`` over the stacked meta-nodes, in row blocks.

    As :class:`graphcl.losses.meow._MeanWeightedLogSumExp`: one pass over ``[b, K_total]``
    blocks computes the value and (``with_grad``) the gradients
    :math:`\partial/\partial u_i = \frac{1}{NT}\sum_k p_{ik} m_k` and
    :math:`\partial/\partial m_k = \frac{1}{NT}\sum_i p_{ik} u_i` (``p`` the row softmax of the
    weighted logits); backward only scales them. Each row is shifted by its maximum over the
    pairs of positive weight. Peak extra memory ``O(b · K_total)``.
    """

    @staticmethod
    def forward(ctx, u: Tensor, meta: Tensor, log_mass: Tensor, own: Tensor, inv_t: float, chunk: int,  # type: ignore[override]
                with_grad: bool) -> Tensor:
        n = u.size(0)
        total = u.new_zeros(())
        grad_u = torch.zeros_like(u) if with_grad else None
        grad_m = torch.zeros_like(meta) if with_grad else None
        for s in range(0, n, chunk):
            rows = slice(s, min(s + chunk, n))
            t = torch.addmm(log_mass.unsqueeze(0), u[rows], meta.t(), alpha=inv_t)
            t.scatter_(1, own[rows], float("-inf"))
            shift = t.amax(dim=1, keepdim=True)
            e = t.sub_(shift).exp_()
            den = e.sum(dim=1, keepdim=True)
            total += (torch.log(den) + shift).sum()
            if with_grad:
                p = e.div_(den)
                grad_u[rows] = p @ meta
                grad_m.addmm_(p.t(), u[rows])
        if with_grad:
            ctx.save_for_backward(grad_u.mul_(inv_t / n), grad_m.mul_(inv_t / n))
        return total / n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor):  # type: ignore[override]
        grad_u, grad_m = ctx.saved_tensors
        return grad_out * grad_u, grad_out * grad_m, None, None, None, None, None


class MetaNodeWeightedInfoNCE(ClusterWeightedInfoNCE):
    r"""MEOW's cluster-weighted InfoNCE with each cluster's negatives replaced by its meta-node:
    ``O(N·K·d)`` time instead of ``O(N²·d)``.

    MEOW's loss (:class:`graphcl.losses.ClusterWeightedInfoNCE`) has the denominator
    :math:`\sum_j w_{ij} e^{u_i^\top v_j/T}` with :math:`w_{ij} = \sum_r \mathbb 1[c_r(i)\ne c_r(j)]`.
    Grouping the ``j`` by their cluster in each clustering rewrites it exactly as

    .. math::
        \sum_{r=1}^{R}\ \sum_{k \ne c_r(i)}\ \sum_{j:\,c_r(j)=k} e^{u_i^\top v_j/T}.

    This loss replaces each inner sum by :math:`n_{r,k}\, e^{u_i^\top m_{r,k}/T}`, the cluster's
    mass times the exponential at its mean :math:`m_{r,k} = \frac1{n_{r,k}}\sum_{j:c_r(j)=k} v_j`
    (a *meta-node*, as PamC's, weighted by cluster mass as graphcl's PamC default):

    .. math::
        \mathcal L = -\frac1N\sum_{i=1}^N \left[\frac{u_i^\top v_i}{T}
            - \log \sum_{r=1}^{R}\sum_{k\ne c_r(i)} n_{r,k}\, e^{u_i^\top m_{r,k}/T}\right].

    **What it approximates.** :math:`e^{x}` is convex, so by Jensen
    :math:`n_{r,k} e^{u_i^\top m_{r,k}/T} \le \sum_{j:c_r(j)=k} e^{u_i^\top v_j/T}`: each
    cluster's term is a lower bound, exact when the cluster's samples coincide (or when every
    cluster holds one node). So this loss is at most MEOW's exact loss, and the gap per cluster
    is the cluster's spread along :math:`u_i` (second order in :math:`\lVert v_j - m_{r,k}\rVert / T`).
    The positive (the numerator) and the zero weight of the presumed false negatives (the
    anchor's own cluster in every clustering) are as in MEOW; a node in another cluster in
    several clusterings still counts once per clustering. Gradients reach ``v`` through the
    meta-node means.

    **Cost.** Meta-nodes: one scatter per clustering, ``O(R·N·d)``. Denominator:
    ``O(N·K_total·d)`` with :math:`K_{total} = \sum_r K_r`, in blocks of ``chunk_size`` rows
    (no ``[N, K_total]`` tensor is kept; peak extra memory ``O(chunk_size · K_total)``). Value
    and gradients come from one pass, as in :class:`ClusterWeightedInfoNCE`; evaluate under
    ``torch.no_grad()`` to skip the gradient work.

    An anchor has no negative only if every clustering puts all nodes in one cluster (then
    every anchor has none); that raises :class:`GraphclInputError`, as MEOW's loss does.

    A subclass of :class:`ClusterWeightedInfoNCE` (its arguments and module protocol); only the
    denominator differs.

    Args:
        temperature: ``T > 0``.
        chunk_size: Rows per block (``None``: about :math:`2^{20}/K_{total}`).

    Shapes:
        - **u**: ``[N, d]`` anchors; **v**: ``[N, d]`` samples (``v_i`` is ``u_i``'s positive).
        - **clusterings**: ``R >= 1`` label tensors ``[N]`` (long), or an ``[R, N]`` tensor.
        - **output**: scalar.
    """

    def forward(self, u: Tensor, v: Tensor, clusterings: Sequence[Tensor]) -> Tensor:
        labels = check_contrast_inputs(u, v, clusterings)
        meta, log_mass, own = cluster_meta_nodes(v, labels)
        chunk = self.chunk_size or max(1, _CHUNK_ELEMENTS // meta.size(0))
        with_grad = torch.is_grad_enabled() and (u.requires_grad or v.requires_grad)
        inv_t = 1.0 / self.temperature
        log_den = _MeanMetaLogSumExp.apply(u, meta, log_mass, own, inv_t, chunk, with_grad)
        return log_den - (u * v).sum(dim=1).mean() * inv_t
