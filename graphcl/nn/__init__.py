"""Neural network modules: node encoders and autoencoder pretraining."""

from graphcl.nn.mlp import AutoEncoder, MLPEncoder
from graphcl.nn.pretrain import cache_dir, pretrain_autoencoder

__all__ = ["AutoEncoder", "MLPEncoder", "cache_dir", "pretrain_autoencoder"]
