"""Neural network modules: node encoders, autoencoder pretraining, MEOW's heterogeneous network."""

from graphcl.nn.chunked import encode_in_chunks
from graphcl.nn.hetero import MetaPathContextEncoder, NodeTypeProjection, ProjectionHead, SemanticAttention, StandardizedGCN
from graphcl.nn.meow import MEOWNetwork
from graphcl.nn.mlp import AutoEncoder, MLPEncoder
from graphcl.nn.pretrain import cache_dir, pretrain_autoencoder

__all__ = ["AutoEncoder", "MEOWNetwork", "MLPEncoder", "MetaPathContextEncoder", "NodeTypeProjection", "ProjectionHead",
           "SemanticAttention", "StandardizedGCN", "cache_dir", "encode_in_chunks", "pretrain_autoencoder"]
