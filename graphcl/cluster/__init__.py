"""Soft cluster assignment, target distribution, KL term, k-means initialisation, re-seeding empty clusters,
modularity eigenvectors of a feature-similarity graph."""

from graphcl.cluster.kmeans import kmeans, kmeans_centers
from graphcl.cluster.reseed import reseed_empty_clusters
from graphcl.cluster.soft_assignment import StudentTAssignment, kl_clustering_loss, target_distribution
from graphcl.cluster.spectral import ModularityEigenvectors, modularity_eigenvectors
from graphcl.cluster.torch_kmeans import KMeansResult, torch_kmeans

__all__ = [
    "KMeansResult",
    "ModularityEigenvectors",
    "StudentTAssignment",
    "kl_clustering_loss",
    "kmeans",
    "kmeans_centers",
    "modularity_eigenvectors",
    "reseed_empty_clusters",
    "target_distribution",
    "torch_kmeans",
]
