r"""PamC's linear-time contrastive loss: node-level positives, cluster meta-node negatives."""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.losses.neighbor_contrast import (
    check_anchors,
    check_pair_inputs,
    positive_log_numerator,
    require_positive_pairs,
)
from graphcl.ops.scatter import scatter
from graphcl.ops.similarity import l2_normalize
from graphcl.validation import check_bool, check_choice, check_float, check_positive

META_NODE_MODES = ("hard", "soft")
NEGATIVE_MODES = ("meta", "mass")


def meta_nodes(z: Tensor, q: Tensor, mode: str = "hard") -> tuple[Tensor, Tensor]:
    r"""Cluster meta-nodes and their masses.

    * ``"hard"`` (what the PamC reference runs): :math:`a_i = \arg\max_k q_{ik}` (no gradient
      through the assignment) and :math:`c_k = \sum_{i: a_i = k} z_i`, by a scatter sum; the
      mass is the member count.
    * ``"soft"`` (as the paper describes): :math:`C = Q^\top Z` and mass :math:`\sum_i q_{ik}`;
      gradients flow into both ``z`` and ``q``.

    Args:
        z: Embeddings ``[N, d]``.
        q: Soft assignments ``[N, K]``.
        mode: ``"hard"`` or ``"soft"``.

    Returns:
        ``(c [K, d], mass [K])``. Cost ``O(N d)`` (hard) or ``O(N K d)`` time and ``O(K d)``
        memory (soft); no ``[N, K, d]`` tensor.
    """
    check_choice(mode, "meta_nodes", META_NODE_MODES)
    k = q.size(1)
    if mode == "hard":
        a = q.detach().argmax(dim=1)
        c = scatter(z, a, dim=0, dim_size=k, reduce="sum")
        mass = torch.bincount(a, minlength=k).to(z.dtype)
        return c, mass
    return q.t() @ z, q.sum(dim=0)  # soft


class PamCLoss(nn.Module):
    r"""PamC loss (Kulatilleke et al., 2023): the all-pairs denominator of the
    neighbour-contrastive loss replaced by contrasts between ``K`` cluster meta-nodes.

    .. math::
        \mathcal{L} = -\frac{1}{|V_+|}\sum_{i \in V_+} \log \sum_j W_{ij}\, e^{s_{ij}/T}
            \;+\; \frac{1}{K'}\sum_{k \in \mathcal{K}'} \log \sum_{l \in \mathcal{K}'} e^{\hat s_{kl}/T}

    :math:`s_{ij}` is the cosine of the embeddings (:math:`s_{ii} := 0`), :math:`W` the
    sparse positive weights (the influence matrix, as PamC runs), :math:`\hat s_{kl}` the
    cosine of meta-nodes :math:`c_k, c_l` (:math:`\hat s_{kk} := 0`, see :func:`meta_nodes`)
    and :math:`\mathcal{K}'` the **non-empty** clusters (mass above ``min_mass``), with
    :math:`K' = |\mathcal{K}'|`. The reference code instead lets an empty cluster below the
    highest index produce NaN and silently shrinks ``K'`` when the highest one is empty; here
    an empty cluster is simply left out, and a zero meta-node has cosine 0 with zero gradient.

    Cost: ``O(nnz · d + N · d + K² d)``; no ``N × N`` or ``N × K × d`` tensor. With
    ``temperature = 1/tau`` this equals the reference's loss up to its ``1e-10`` epsilons.

    ``negatives="mass"`` (graphcl's variant) replaces the meta-node contrast by what SCGC*'s
    all-pairs denominator becomes when the nodes are grouped by cluster: with unit embeddings
    :math:`\hat z`, cluster sums :math:`S_k = \sum_{j \in k} \hat z_j`, masses :math:`n_k` and
    means :math:`\mu_k = S_k / n_k`,

    .. math::
        \sum_{j} e^{\hat z_i^\top \hat z_j / T} = \sum_k \sum_{j\in k} e^{\hat z_i^\top \hat z_j/T}
        \;\ge\; \sum_k n_k\, e^{\hat z_i^\top \mu_k / T}
        \qquad\text{(Jensen, exact when every cluster is a point)},

    so the negative term is :math:`\frac1N \sum_i \log \sum_{k \in \mathcal K'} n_k
    e^{\hat z_i^\top \mu_k / T}`: every node is pushed away from every cluster in proportion to
    the cluster's mass, as in SCGC* (the self-pair :math:`j = i` is kept inside the bound). Each
    cluster counts by its mass instead of once, and each node contrasts itself with the clusters
    instead of only the centroids with each other. Cost ``O(nnz · d + N · K · d)``.

    Args:
        temperature: ``T > 0`` (the reference's ``tau`` is ``1/T``).
        meta_nodes: ``"hard"`` (default, as the reference) or ``"soft"``.
        negatives: ``"meta"`` (default, the reference's meta-node contrast) or ``"mass"``
            (node-to-cluster negatives weighted by cluster mass, above).
        min_mass: Clusters whose mass (member count, or total soft assignment) is ``<= min_mass``
            count as empty. Default: 0 for hard meta-nodes (a cluster needs one member) and
            ``1e-6 · N / K`` for soft ones (less than a millionth of a fair share: its meta-node
            is numerically only a direction of rounding error).
        check_inputs: Check the values of ``edge_index`` (node ids in ``[0, N)``),
            ``edge_weight`` (finite, non-negative) and ``anchors`` on every call (the default:
            safe for standalone use). These checks read tensor values back to the host, a
            synchronisation per call on a GPU; with ``False`` only shapes and dtypes are checked,
            for a training loop that validated its graph once before the first step (as graphcl's
            estimators do in ``fit``). Out-of-range ids are then undefined behaviour.

    Mini-batch (``anchors``, ``[B]`` distinct positions in ``z``): ``z`` holds a batch of
    anchor nodes and their positive partners, ``q`` the anchors' assignments ``[B, K]``. The
    positive term runs over the anchors' rows of :math:`W` (every pair of an anchor, so a pass
    over a partition of the nodes uses each pair once); the meta-nodes are the anchors'
    cluster sums plus ``base = (c [K, d], mass [K])``, a detached estimate of the rest of the
    graph's sums (``None``: the batch's sums alone), and ``batch_weight`` multiplies the gradient
    that flows through the batch's own sums (not the value). A mini-batch loss averages its
    other terms over ``B`` anchors instead of ``N`` nodes, which scales their per-node gradient
    by ``N/B``; passing ``batch_weight = N/B`` gives the meta-node term the same scaling, so the
    balance between the terms is that of full-batch training (with ``batch_weight = 1`` a small
    batch's negatives are ``B/N`` times too weak and the positives collapse the clusters).

    Shapes:
        - **z**: ``[N, d]``; **edge_index**: ``[2, nnz]``; **edge_weight**: ``[nnz]`` or ``None``;
          **q**: ``[N, K]`` (``[B, K]`` with ``anchors``); output: scalar.
    """

    def __init__(
        self,
        temperature: float = 1.0,
        meta_nodes: str = "hard",
        min_mass: Optional[float] = None,
        check_inputs: bool = True,
        negatives: str = "meta",
    ) -> None:
        super().__init__()
        self.temperature = check_positive(temperature, "temperature")
        self.meta_nodes = check_choice(meta_nodes, "meta_nodes", META_NODE_MODES)
        self.negatives = check_choice(negatives, "negatives", NEGATIVE_MODES)
        self.min_mass = check_float(min_mass, "min_mass", minimum=0.0, allow_none=True)
        self.check_inputs = check_bool(check_inputs, "check_inputs")

    def reset_parameters(self) -> None:  # no parameters; part of the module protocol
        pass

    def positive_term(
        self, z: Tensor, edge_index: Tensor, edge_weight: Tensor, anchors: Optional[Tensor] = None
    ) -> Tensor:
        """``-mean_i log sum_j W_ij exp(s_ij / T)`` over nodes (or anchors) with a positive pair."""
        log_num, has_pos = positive_log_numerator(l2_normalize(z), edge_index, edge_weight, self.temperature)
        if anchors is not None:
            log_num, has_pos = log_num[anchors], has_pos[anchors]
        require_positive_pairs(has_pos)
        return -log_num[has_pos].mean()

    def empty_mass(self, mass: Tensor) -> float:
        """The mass at or below which a cluster counts as empty (see ``min_mass``); ``mass`` is
        the ``[K]`` cluster masses, whose sum is the number of nodes they represent."""
        if self.min_mass is not None:
            return float(self.min_mass)
        return 0.0 if self.meta_nodes == "hard" else 1e-6 * float(mass.detach().sum()) / mass.numel()

    def cluster_sums(self, z: Tensor, q: Tensor) -> Tuple[Tensor, Tensor]:
        r"""The per-cluster sums ``[K, d]`` and masses ``[K]`` the negative term is built from:
        of ``z`` (``"meta"``: only the meta-nodes' directions matter) or of the unit embeddings
        (``"mass"``: the cluster means :math:`\mu_k`). What mini-batch and distributed training
        accumulate and combine."""
        return meta_nodes(l2_normalize(z) if self.negatives == "mass" else z, q, self.meta_nodes)

    def negative_term(
        self, z: Tensor, q: Tensor, base: Optional[Tuple[Tensor, Tensor]] = None, batch_weight: float = 1.0
    ) -> Tensor:
        """``"meta"``: ``mean_{k in K'} log sum_{l in K'} exp(cos(c_k, c_l) / T)`` with
        ``cos(c_k, c_k) := 0``; ``"mass"``: ``mean_i log sum_{k in K'} n_k exp(z_i . mu_k / T)``
        over the rows of ``z``."""
        c, mass = self.cluster_sums(z, q)
        if base is not None:
            if batch_weight != 1.0:  # same value, gradient through the batch's sums times batch_weight
                c = c.detach() + batch_weight * (c - c.detach())
            c, mass = c + base[0].detach(), mass + base[1].detach()
        if self.negatives == "mass":
            return self.mass_log_denominators(z, c, mass).mean()
        return self.meta_node_contrast(c, mass)

    def mass_log_denominators(self, z: Tensor, sums: Tensor, mass: Tensor) -> Tensor:
        r"""``[R]``: :math:`\log \sum_{k \in K'} n_k e^{\hat z_i^\top \mu_k / T}` for the rows ``z [R, d]``,
        from cluster sums of unit embeddings ``[K, d]`` and masses ``[K]`` (``"mass"`` negatives)."""
        keep = mass > self.empty_mass(mass)
        if not bool(keep.any()):
            raise GraphclInputError("every cluster is empty: the negative term is undefined")
        n_k = mass[keep]
        mu = sums[keep] / n_k[:, None]
        logits = (l2_normalize(z) @ mu.t()) / self.temperature + torch.log(n_k)[None, :]  # [R, K']
        return torch.logsumexp(logits, dim=1)

    def meta_node_contrast(self, c: Tensor, mass: Tensor) -> Tensor:
        """The negative term from given meta-nodes ``c [K, d]`` and masses ``[K]`` (in
        distributed training, the all-reduced sums of every rank's)."""
        keep = mass > self.empty_mass(mass)
        if not bool(keep.any()):
            raise GraphclInputError("every cluster is empty: the meta-node term is undefined")
        cn = l2_normalize(c[keep])
        sim = cn @ cn.t()
        sim = sim - torch.diag_embed(torch.diagonal(sim))  # s_kk := 0 (K' × K', small)
        return torch.logsumexp(sim / self.temperature, dim=1).mean()

    def forward(
        self,
        z: Tensor,
        edge_index: Tensor,
        edge_weight: Optional[Tensor],
        q: Tensor,
        anchors: Optional[Tensor] = None,
        base: Optional[Tuple[Tensor, Tensor]] = None,
        batch_weight: float = 1.0,
    ) -> Tensor:
        edge_index, edge_weight = check_pair_inputs(z, edge_index, edge_weight, self.check_inputs)
        z_neg = z
        if anchors is not None:
            anchors = check_anchors(anchors, z.size(0), check_values=self.check_inputs)
            z_neg = z[anchors]
        if q.dim() != 2 or q.size(0) != z_neg.size(0):
            raise GraphclInputError(f"q must have shape [{z_neg.size(0)}, K] (one row per {'anchor' if anchors is not None else 'node'}), got {tuple(q.shape)}")
        if base is not None and (base[0].shape != (q.size(1), z.size(1)) or base[1].shape != (q.size(1),)):
            raise GraphclInputError(f"base must be (c [K={q.size(1)}, d={z.size(1)}], mass [K])")
        return self.positive_term(z, edge_index, edge_weight, anchors) + self.negative_term(z_neg, q, base, batch_weight)

    def __repr__(self) -> str:
        extra = "" if self.check_inputs else ", check_inputs=False"
        extra = (f", negatives={self.negatives!r}" if self.negatives != "meta" else "") + extra
        return f"{self.__class__.__name__}(temperature={self.temperature}, meta_nodes={self.meta_nodes!r}{extra})"
