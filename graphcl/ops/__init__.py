"""Sparse, scatter-based graph operations (no dense ``N × N`` tensors)."""

from graphcl.ops.normalize import add_self_loops, normalize_adjacency, symmetrize
from graphcl.ops.power import adjacency_power, influence_matrix
from graphcl.ops.propagate import geometric_smoothing, propagate, smooth_features
from graphcl.ops.scatter import get_scatter_backend, scatter, set_scatter_backend, torch_scatter_available
from graphcl.ops.similarity import edge_cosine_similarity, l2_normalize
from graphcl.ops.sparse_matrix import SparseOperator, row_mean_operator, sparse_operator, spmm

__all__ = [
    "SparseOperator",
    "add_self_loops",
    "adjacency_power",
    "edge_cosine_similarity",
    "geometric_smoothing",
    "get_scatter_backend",
    "influence_matrix",
    "l2_normalize",
    "normalize_adjacency",
    "propagate",
    "row_mean_operator",
    "scatter",
    "set_scatter_backend",
    "smooth_features",
    "sparse_operator",
    "spmm",
    "symmetrize",
    "torch_scatter_available",
]
