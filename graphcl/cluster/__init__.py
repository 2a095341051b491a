"""Soft cluster assignment, target distribution, KL term, k-means initialisation, re-seeding empty clusters,
modularity eigenvectors of a feature-similarity graph, the consensus of several clusterings."""

from graphcl.cluster.consensus import consensus_clustering, membership_matrix
from graphcl.cluster.kmeans import kmeans, kmeans_centers
from graphcl.cluster.reseed import reseed_empty_clusters
from graphcl.cluster.soft_assignment import StudentTAssignment, kl_clustering_loss, target_distribution
from graphcl.cluster.spectral import ModularityEigenvectors, SpectralClustering, modularity_eigenvectors, spectral_clustering
from graphcl.cluster.torch_kmeans import KMeansResult, torch_kmeans

__all__ = [
    "KMeansResult",
    "ModularityEigenvectors",
    "SpectralClustering",
    "StudentTAssignment",
    "consensus_clustering",
    "kl_clustering_loss",
    "kmeans",
    "kmeans_centers",
    "membership_matrix",
    "modularity_eigenvectors",
    "reseed_empty_clusters",
    "spectral_clustering",
    "target_distribution",
    "torch_kmeans",
]
