"""PamC: SCGC* with the linear-time meta-node contrastive loss (estimator)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import torch
from torch import Tensor

from graphcl.losses import PamCLoss
from graphcl.losses.pamc import META_NODE_MODES, NEGATIVE_MODES
from graphcl.models.scgc import SCGCStar
from graphcl.registry import register
from graphcl.validation import check_choice

META_NODE_SCOPES = ("global", "batch")


@register("pamc", family="homogeneous", config=("pamc.yaml", "pamc"))
class PamC(SCGCStar):
    r"""PamC (Kulatilleke et al., 2023): SCGC*'s encoder-only network and influence-matrix
    positives, with the all-pairs denominator replaced by contrasts between cluster meta-nodes.

    .. math::
        \mathcal{L} = \beta\,\mathrm{KL}(P\,\|\,Q) + \alpha\,\mathcal{L}_{PamC}(Z, Q; W),
        \qquad W = \sum_{k=1}^{r}\hat A^k

    with :math:`\mathcal{L}_{PamC}` from :class:`graphcl.losses.PamCLoss`: per-edge positives
    and ``K × K`` meta-node negatives, so each epoch costs ``O(nnz · d + N · d + K² d)`` in the
    loss instead of SCGC*'s ``O(N² d)``. Meta-nodes are built from the soft assignments of the
    same forward pass: hard (argmax, as the reference runs; the default) or soft (``Q^T Z``).

    In mini-batch training (``batch_size``) the meta-nodes need the whole graph's cluster
    sums. ``meta_node_scope="global"`` (default) uses the batch's own sums (with gradient)
    plus the rest of the graph's, estimated from the sums accumulated over the previous epoch
    (detached, scaled by ``(N − B)/N``), with the gradient through the batch's sums scaled by
    ``N/B`` like the batch-averaged terms: ``O(K d)`` memory, and the meta-nodes stay close to
    the full-batch ones. ``"batch"`` uses the batch's sums alone (noisier for small batches,
    no state).

    Args:
        meta_nodes: ``"hard"`` or ``"soft"``.
        negatives: ``"mass"`` (graphcl's default: each node against every cluster, weighted
            by its mass, a Jensen bound of SCGC*'s all-pairs denominator; see
            :class:`graphcl.losses.PamCLoss`) or ``"meta"`` (the reference's contrast between
            meta-nodes).
        reseed_empty: Re-seed a cluster that loses every node (see :class:`graphcl.models.SCGC`).
            ``None`` (default): on, except with ``distributed=True``, which does not support it
            yet. :class:`PamCReference` is PamC as the reference
            code runs it (``negatives="meta"``, no re-seeding).
        meta_node_scope: ``"global"`` or ``"batch"`` (mini-batch training only).
        **kwargs: Everything :class:`graphcl.models.SCGC` takes (``block_size`` is unused).
    """

    _all_pairs = False  # the meta-node loss is linear in N: no guard-rail

    def __init__(
        self, n_clusters: int = 2, *, meta_nodes: str = "hard", meta_node_scope: str = "global", negatives: str = "mass",
        reseed_empty: Optional[bool] = None, **kwargs: Any
    ) -> None:
        super().__init__(n_clusters, reseed_empty=reseed_empty, **kwargs)
        self.meta_nodes = meta_nodes
        self.meta_node_scope = meta_node_scope
        self.negatives = negatives

    def _check_params(self, num_nodes: int) -> None:
        super()._check_params(num_nodes)
        check_choice(self.meta_nodes, "meta_nodes", META_NODE_MODES)
        check_choice(self.meta_node_scope, "meta_node_scope", META_NODE_SCOPES)
        check_choice(self.negatives, "negatives", NEGATIVE_MODES)

    def _batch_statistics(self, z: Tensor, q: Tensor) -> Dict[str, Tensor]:
        stats = super()._batch_statistics(z, q)
        stats["meta_c"], stats["meta_mass"] = self.contrastive_loss().cluster_sums(z, q)
        return stats

    def _batch_contrast_term(self, contrast, z, anchor_pos, edge_index, edge_weight, q, stats, num_nodes) -> Tensor:
        if self.meta_node_scope == "batch":
            return contrast(z, edge_index, edge_weight, q, anchors=anchor_pos)
        b = anchor_pos.numel()
        rest = (num_nodes - b) / num_nodes
        base = (stats["meta_c"] * rest, stats["meta_mass"] * rest)
        # batch_weight N/B: the other terms average over B anchors (see PamCLoss)
        return contrast(z, edge_index, edge_weight, q, anchors=anchor_pos, base=base, batch_weight=num_nodes / b)

    def sharded_contrast_term(self, contrast, z, q, shard, group) -> Tensor:
        from graphcl.distributed.losses import sharded_pamc

        return sharded_pamc(contrast, z, q, shard, group)

    def contrastive_loss(self) -> torch.nn.Module:
        return PamCLoss(self.temperature, meta_nodes=self.meta_nodes, check_inputs=False, negatives=self.negatives)  # fit checked the edges

    def _contrast_term(self, contrast, z: Tensor, w_index: Tensor, w_value: Tensor, q: Tensor) -> Tensor:
        return contrast(z, w_index, w_value, q)


@register("pamc_reference", family="homogeneous", config=("pamc.yaml", "pamc"))
class PamCReference(PamC):
    r"""PamC as the reference code runs it: the meta-node contrast (``negatives="meta"``) and no
    re-seeding of emptied clusters (``reseed_empty=False``); graphcl's :class:`PamC` defaults
    differ in exactly these two (see ``docs/pamc.md``). Empty clusters are left out of the
    meta-node term instead of producing NaN as in the reference. Arguments as :class:`PamC`.
    """

    def __init__(self, n_clusters: int = 2, *, negatives: str = "meta", reseed_empty: bool = False, **kwargs: Any) -> None:
        super().__init__(n_clusters, negatives=negatives, reseed_empty=reseed_empty, **kwargs)
