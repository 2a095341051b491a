"""Contrastive and clustering losses."""

from graphcl.losses.neighbor_contrast import (
    NeighborContrastLoss,
    all_pairs_log_denominator,
    positive_log_numerator,
)

__all__ = ["NeighborContrastLoss", "all_pairs_log_denominator", "positive_log_numerator"]
