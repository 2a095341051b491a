"""Contrastive and clustering losses."""

from graphcl.losses.adameow import AdaptiveWeightInfoNCE
from graphcl.losses.meow import ClusterWeightedInfoNCE, PrototypeLoss, cluster_concentration
from graphcl.losses.meow_meta import MetaNodeWeightedInfoNCE, cluster_meta_nodes
from graphcl.losses.neighbor_contrast import (
    NeighborContrastLoss,
    all_pairs_log_denominator,
    positive_log_numerator,
)
from graphcl.losses.pamc import PamCLoss, meta_nodes

__all__ = [
    "AdaptiveWeightInfoNCE",
    "ClusterWeightedInfoNCE",
    "MetaNodeWeightedInfoNCE",
    "NeighborContrastLoss",
    "PamCLoss",
    "PrototypeLoss",
    "all_pairs_log_denominator",
    "cluster_concentration",
    "cluster_meta_nodes",
    "meta_nodes",
    "positive_log_numerator",
]
