"""PamC: SCGC* with the linear-time meta-node contrastive loss (estimator)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.losses import PamCLoss
from graphcl.losses.pamc import META_NODE_MODES
from graphcl.models.scgc import SCGCStar


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

    Args:
        meta_nodes: ``"hard"`` or ``"soft"``.
        **kwargs: Everything :class:`graphcl.models.SCGC` takes (``block_size`` is unused).
    """

    def __init__(self, n_clusters: int = 2, *, meta_nodes: str = "hard", **kwargs: Any) -> None:
        super().__init__(n_clusters, **kwargs)
        self.meta_nodes = meta_nodes

    @classmethod
    def _get_param_names(cls):  # scikit-learn: SCGC's parameters plus meta_nodes
        return sorted(set(SCGCStar._get_param_names()) | {"meta_nodes"})

    def _check_params(self, num_nodes: int) -> None:
        super()._check_params(num_nodes)
        if self.meta_nodes not in META_NODE_MODES:
            raise GraphclInputError(f"meta_nodes must be one of {META_NODE_MODES}, got {self.meta_nodes!r}")

    def _contrastive_loss(self) -> torch.nn.Module:
        return PamCLoss(self.temperature, meta_nodes=self.meta_nodes)

    def _contrast_term(self, contrast, z: Tensor, w_index: Tensor, w_value: Tensor, q: Tensor) -> Tensor:
        return contrast(z, w_index, w_value, q)
