"""Soft cluster assignment, target distribution, KL term, k-means initialisation, re-seeding empty clusters."""

from graphcl.cluster.kmeans import kmeans, kmeans_centers
from graphcl.cluster.reseed import reseed_empty_clusters
from graphcl.cluster.soft_assignment import StudentTAssignment, kl_clustering_loss, target_distribution
from graphcl.cluster.torch_kmeans import KMeansResult, torch_kmeans

__all__ = [
    "KMeansResult",
    "StudentTAssignment",
    "kl_clustering_loss",
    "kmeans",
    "kmeans_centers",
    "reseed_empty_clusters",
    "target_distribution",
    "torch_kmeans",
]
