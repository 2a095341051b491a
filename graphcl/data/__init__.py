"""Datasets and graph construction: shipped benchmark loaders, kNN graphs, user edge lists,
synthetic planted-partition graphs (homogeneous and heterogeneous)."""

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
from graphcl.data.graph_features import metapath_svd_features, neighbour_sketch_features
from graphcl.data.graph_io import load_graph, save_graph
from graphcl.data.hetero import (
    HETERO_DATASET_INFO,
    HeteroDatasetInfo,
    hetero_dataset_info,
    hetero_file,
    list_hetero_datasets,
    load_hetero_dataset,
)
from graphcl.data.knn import KNN_METRICS, knn_graph_from_features
from graphcl.data.metapath import metapath_adjacency, metapath_contexts, pathsim_topk
from graphcl.data.ogb import OGB_NODE_DATASETS, load_ogb
from graphcl.data.synthetic import planted_partition_graph
from graphcl.data.synthetic_hetero import planted_hetero_graph
from graphcl.data.user_files import read_edges, read_features, read_graph_npz, read_labels, read_user_graph
from graphcl.data.verify import verify_dataset

__all__ = [
    "DATASET_INFO",
    "DatasetInfo",
    "HETERO_DATASET_INFO",
    "HeteroDatasetInfo",
    "KNN_METRICS",
    "OGB_NODE_DATASETS",
    "cache_dir",
    "dataset_info",
    "default_data_root",
    "from_edge_list",
    "hetero_dataset_info",
    "hetero_file",
    "knn_graph_from_features",
    "list_datasets",
    "list_hetero_datasets",
    "load_dataset",
    "load_graph",
    "load_hetero_dataset",
    "load_ogb",
    "metapath_adjacency",
    "metapath_contexts",
    "metapath_svd_features",
    "neighbour_sketch_features",
    "pathsim_topk",
    "planted_hetero_graph",
    "planted_partition_graph",
    "read_edges",
    "read_features",
    "read_graph_npz",
    "read_labels",
    "read_user_graph",
    "save_graph",
    "verify_dataset",
]
