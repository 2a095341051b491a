"""graphcl: graph contrastive learning for node clustering on PyTorch Geometric."""

from graphcl.errors import GraphclDistributedError, GraphclInputError

__version__ = "0.1.0"

__all__ = ["GraphclDistributedError", "GraphclInputError", "__version__"]
