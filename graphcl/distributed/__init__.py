"""Data-parallel training on ``torch.distributed`` (launched with ``torchrun``).

* :func:`init_from_env` joins the process group (gloo on CPU, NCCL on GPUs) with a bounded
  wait, raising :class:`graphcl.errors.GraphclDistributedError` instead of hanging;
* :func:`shard_graph` keeps a rank's nodes, its rows of the positive weights and the halo
  features they reach;
* :func:`all_reduce_sum` / :func:`all_gather_rows` are differentiable collectives, and
  :func:`count_communication` measures what they (and DDP) send;
* the estimators take ``distributed=True`` (:mod:`graphcl.distributed.training`), and
  :func:`gather_predictions` assembles per-node results on every rank.

See ``docs/distributed.md``.
"""

from graphcl.distributed.collectives import (
    CommunicationLog,
    all_gather_counts,
    all_gather_rows,
    all_reduce_sum,
    count_communication,
)
from graphcl.distributed.env import DistributedContext, current_context, init_from_env, shutdown
from graphcl.distributed.shard import GraphShard, shard_graph, shard_sizes
from graphcl.distributed.training import fit_sharded, gather_predictions, sharded_step, wrap_ddp

__all__ = [
    "CommunicationLog",
    "DistributedContext",
    "GraphShard",
    "all_gather_counts",
    "all_gather_rows",
    "all_reduce_sum",
    "count_communication",
    "current_context",
    "fit_sharded",
    "gather_predictions",
    "init_from_env",
    "shard_graph",
    "shard_sizes",
    "sharded_step",
    "shutdown",
    "wrap_ddp",
]
