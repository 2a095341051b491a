"""Datasets and graph construction: shipped benchmark loaders, kNN graphs, user edge lists,
synthetic planted-partition graphs."""

from graphcl.data.datasets import (
    DATASET_INFO,
    DatasetInfo,
    cache_dir,
    dataset_info,
    default_data_root,
    list_datasets,
    load_dataset,
)
from graphcl.data.edge_list import from_edge_list
from graphcl.data.graph_io import load_graph, save_graph
from graphcl.data.ogb import OGB_NODE_DATASETS, load_ogb
from graphcl.data.knn import KNN_METRICS, knn_graph_from_features
from graphcl.data.synthetic import planted_partition_graph

__all__ = [
    "DATASET_INFO",
    "DatasetInfo",
    "KNN_METRICS",
    "OGB_NODE_DATASETS",
    "cache_dir",
    "dataset_info",
    "default_data_root",
    "from_edge_list",
    "knn_graph_from_features",
    "list_datasets",
    "load_dataset",
    "load_graph",
    "load_ogb",
    "planted_partition_graph",
    "save_graph",
]
