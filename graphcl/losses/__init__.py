"""Contrastive and clustering losses."""

from graphcl.losses.neighbor_contrast import (
    NeighborContrastLoss,
    all_pairs_log_denominator,
    positive_log_numerator,
)

from graphcl.losses.pamc import PamCLoss, meta_nodes

__all__ = ["NeighborContrastLoss", "PamCLoss", "all_pairs_log_denominator", "meta_nodes", "positive_log_numerator"]
