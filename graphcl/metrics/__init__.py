"""Clustering metrics: supervised (ACC, NMI, ARI, F1) and label-free on a graph (modularity,
conductance)."""

from graphcl.metrics.classification import evaluate_classification, evaluate_clustering_runs
from graphcl.metrics.clustering import (
    ClusteringMetrics,
    ari,
    cluster_acc,
    cluster_f1,
    confusion_matrix,
    evaluate_clustering,
    matched_predictions,
    nmi,
)
from graphcl.metrics.structure import conductance, modularity

__all__ = [
    "ClusteringMetrics",
    "ari",
    "cluster_acc",
    "cluster_f1",
    "conductance",
    "confusion_matrix",
    "evaluate_classification",
    "evaluate_clustering",
    "evaluate_clustering_runs",
    "matched_predictions",
    "modularity",
    "nmi",
]
