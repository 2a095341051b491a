"""Soft cluster assignment, target distribution, KL term and k-means initialisation."""

from graphcl.cluster.kmeans import kmeans, kmeans_centers
from graphcl.cluster.soft_assignment import StudentTAssignment, kl_clustering_loss, target_distribution
from graphcl.cluster.torch_kmeans import KMeansResult, torch_kmeans

__all__ = [
    "KMeansResult",
    "StudentTAssignment",
    "kl_clustering_loss",
    "kmeans",
    "kmeans_centers",
    "target_distribution",
    "torch_kmeans",
]
