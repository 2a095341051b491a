r"""MEOW's network: meta-path context encoders, a shared GCN and semantic attention (Yu & Li, SDM 2023)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from graphcl.nn.hetero import (
    MetaPathContextEncoder,
    NodeTypeProjection,
    ProjectionHead,
    SemanticAttention,
    StandardizedGCN,
)
from graphcl.nn.normalization import row_normalize
from graphcl.ops.sparse_matrix import SparseOperator, spmm

__all__ = ["MEOWNetwork"]


class MEOWNetwork(nn.Module):
    r"""MEOW's encoder: type projections, per-meta-path context encoders, one shared
    standardised GCN, semantic attention over the ``2M`` fine views, and a shared projection head.

    .. math::
        z = \mathrm{Att}\big(\{\mathrm{norm}\,g(F_m, \hat A_m),\ \mathrm{norm}\,g(\tilde F_m, \tilde A_m)\}_{m=1}^{M}\big),
        \qquad z^c = g(H, \bar A)

    with :math:`g` = :class:`~graphcl.nn.hetero.StandardizedGCN`, :math:`F_m` the context
    encodings (:class:`~graphcl.nn.hetero.MetaPathContextEncoder`), tildes the static
    feature- and edge-masked views and :math:`\bar A` the mean meta-path operator.

    Args:
        in_channels: Node type -> feature size or ``None`` (featureless: embedding table).
        num_nodes: Node type -> node count.
        target: Target node type.
        metapath_contexts: Per meta-path, its context keys.
        hidden_channels: Embedding size (64 in MEOW).
        projection_channels: Projection head output size (64; AdaMEOW uses 16 on AMiner).
        dropout: Dropout of projections, context terms and GCN layers.
        attention_dropout: Dropout on the attention vector.
        recompute: Keep only the inputs and outputs of each fine view (context encoder, two
            GCN layers) and of the projection head's activations for the backward pass, and
            recompute their insides during it (:func:`torch.utils.checkpoint.checkpoint`,
            dropout masks replayed from the saved RNG state), up to the last tensor the backward
            reads: each view's first propagation, not its second (the normalisations keep their
            outputs, :mod:`graphcl.nn.normalization`). The same values and gradients, bit for
            bit, with about a third of the saved ``[N, h]`` activations. The coarse view keeps
            its activations (its backward runs first, so they are gone before the fine views'
            peak) and the attention keeps only the views, either way.

    Shapes:
        ``forward(...)`` -> ``(z [N, h], z_coarse [N, h])``; :meth:`project` maps
        ``[N, h] -> [N, projection_channels]`` (unit rows). The inputs are built by
        :func:`graphcl.data.metapath_inputs.build_inputs` (``net(**inputs.network_inputs())``).
    """

    def __init__(
        self,
        in_channels: Dict[str, Optional[int]],
        num_nodes: Dict[str, int],
        target: str,
        metapath_contexts: Sequence[Sequence[str]],
        hidden_channels: int = 64,
        projection_channels: Optional[int] = None,
        dropout: float = 0.2,
        attention_dropout: Optional[float] = None,
        recompute: bool = False,
    ) -> None:
        super().__init__()
        self.target = target
        self.recompute = bool(recompute)
        self.types = list(in_channels)
        self.projections = nn.ModuleDict(
            {t: NodeTypeProjection(in_channels[t], hidden_channels, num_nodes[t], dropout) for t in self.types}
        )
        self.context_encoders = nn.ModuleList(
            MetaPathContextEncoder(len(keys), hidden_channels, dropout) if keys else nn.Identity()
            for keys in metapath_contexts
        )
        self.metapath_contexts = [list(k) for k in metapath_contexts]
        self.gcn = StandardizedGCN(hidden_channels, dropout)
        self.attention = SemanticAttention(hidden_channels, dropout if attention_dropout is None else attention_dropout)
        self.head = ProjectionHead(hidden_channels, projection_channels)

    def reset_parameters(self) -> None:
        for module in (*self.projections.values(), *self.context_encoders, self.gcn, self.attention, self.head):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def _view(self, h: Tensor, m: int, adj: SparseOperator, *contexts: Tensor) -> Tensor:
        """One fine view before its normalisation: ``Z`` of ``g(F_m, A)``, ``F_m`` the context
        encoding of ``h`` (or ``h``)."""
        x = self.context_encoders[m](h, list(contexts)) if contexts else h
        return self.gcn.propagate(x, adj)

    def _run(self, fn, *args: Any) -> Tensor:
        """``fn(*args)``, recomputed in the backward pass when ``recompute`` and training."""
        if self.recompute and self.training and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def forward(self, x_dict: Mapping[str, Optional[Tensor]], graphs: Sequence[SparseOperator],
                masked_graphs: Sequence[SparseOperator], coarse_graph: SparseOperator,
                context_ops: Mapping[str, Tuple[str, SparseOperator]], masked_x: Optional[Tensor] = None,
                zero_rows: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Encode both views.

        Args:
            x_dict: Node type -> features ``[N_t, d_t]`` or ``None`` (featureless type).
            graphs: Per meta-path, the normalised operator ``[N, N]``.
            masked_graphs: Per meta-path, the edge-masked operator ``[N, N]``.
            coarse_graph: The mean meta-path operator ``[N, N]``.
            context_ops: Context key -> ``(node type t, row-mean operator [N, N_t])``.
            masked_x: The target's feature-masked features ``[N, d]`` (``None``: featureless).
            zero_rows: For a featureless target, the rows whose embedding is masked (zeroed).

        Returns:
            ``(z [N, h], z_coarse [N, h])``: the fused fine view and the coarse view.
        """
        t = self.target
        h = self.projections[t](x_dict[t])
        h_masked = self.projections[t](masked_x, zero_rows=zero_rows)
        proj = {ty: self.projections[ty](x_dict[ty]) for ty in self.types if ty != t}
        proj[t] = h
        # one context mean per distinct prefix, shared by meta-paths and by both views
        means = {key: spmm(op, proj[ty]) for key, (ty, op) in context_ops.items()}
        views = []
        for m, (adj, adj_masked) in enumerate(zip(graphs, masked_graphs)):
            contexts = [means[k] for k in self.metapath_contexts[m]]
            # the normalisations keep their outputs (which the attention keeps anyway), not Z: a
            # recomputing backward pass stops before the view's second propagation
            views.append(self.gcn.unit_rows(self._run(self._view, h, m, adj, *contexts)))
            views.append(self.gcn.unit_rows(self._run(self._view, h_masked, m, adj_masked, *contexts)))
        z, self.view_weights_ = self.attention(views)  # keeps only the views (row-block summaries)
        # the coarse view keeps its activations even with recompute: its backward runs first (it is
        # created last), so they are freed before the fine views' backward, where the peak sits
        return z, self.gcn(h, coarse_graph)

    def project(self, z: Tensor) -> Tensor:
        return row_normalize(self._run(self.head.activations, z))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(target={self.target!r}, types={self.types}, "
                f"metapaths={len(self.metapath_contexts)}, hidden={self.gcn.channels})")
