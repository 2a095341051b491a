r"""Each rank's share of the SCGC / SCGC* / PamC losses on a :class:`GraphShard`.

Every function returns a rank's **contribution** :math:`L_r` with :math:`\sum_r L_r = L`, the
full-graph loss: terms that sum over nodes are summed over the owned nodes and divided by
the global count; terms computed identically on every rank (PamC's meta-node contrast) are
divided by the number of ranks ``R``. Back-propagating :math:`R \cdot L_r` on every rank and
letting DDP average the parameter gradients then gives exactly :math:`\nabla L`, because the
collectives inside the loss (:func:`graphcl.distributed.collectives.all_reduce_sum`,
:func:`~graphcl.distributed.collectives.all_gather_rows`) carry each rank's gradient back to
the rank whose nodes produced the value.
"""

from __future__ import annotations

from typing import Tuple

import torch
import torch.distributed as dist
from torch import Tensor

from graphcl.cluster import kl_clustering_loss, target_distribution
from graphcl.distributed.collectives import all_gather_rows, all_reduce_sum
from graphcl.distributed.shard import GraphShard
from graphcl.losses import NeighborContrastLoss, PamCLoss
from graphcl.losses.neighbor_contrast import positive_log_numerator, require_positive_pairs, rows_log_denominator
from graphcl.ops.similarity import l2_normalize


def sharded_kl(q: Tensor, shard: GraphShard, group=None) -> Tensor:
    r"""This rank's part of :math:`\mathrm{KL}(P\|Q)` (``batchmean`` over all ``N`` nodes).

    The target :math:`P` needs the cluster frequencies :math:`f_k = \sum_i q_{ik}` of the
    whole graph: an all-reduce of ``K`` floats (no gradient, as in the single-process loss).

    Args:
        q: ``[n, K]`` soft assignments of the owned nodes.
    """
    freq = all_reduce_sum(q.detach().sum(dim=0), group, "cluster_frequencies")
    p = target_distribution(q.detach(), freq=freq)
    return kl_clustering_loss(p, q) * (q.size(0) / shard.num_nodes)


def _positive_part(zn: Tensor, shard: GraphShard, temperature: float, group) -> Tuple[Tensor, Tensor, Tensor]:
    """Owned rows' ``log sum_j W_ij exp(s_ij/T)``, which of them have a pair, and the global
    number of such rows."""
    n = shard.num_owned
    log_num, has_pos = positive_log_numerator(zn, shard.w_index, shard.w_value, temperature)
    log_num, has_pos = log_num[:n], has_pos[:n]
    count = all_reduce_sum(has_pos.sum().to(zn.dtype), group, "positive_count")
    require_positive_pairs(count > 0)  # over the whole graph, not this shard
    return log_num, has_pos, count


def sharded_neighbor_contrast(loss: NeighborContrastLoss, z: Tensor, shard: GraphShard, group=None) -> Tensor:
    r"""This rank's part of :class:`~graphcl.losses.NeighborContrastLoss` (SCGC, SCGC*).

    The numerator needs only the shard and its halo. The exact denominator of an owned node
    runs over **all** ``N`` embeddings: they are all-gathered (``4 N d`` bytes per rank, and
    the same again for their gradient in the backward pass), and the owned rows are
    contrasted with them in row blocks (:func:`graphcl.losses.neighbor_contrast.rows_log_denominator`,
    memory ``O(block_size · N)``, time ``O(N^2 d / R)`` per rank).

    Args:
        z: ``[n + h, d]`` embeddings of the shard's owned and halo nodes (``shard.x``'s rows).
    """
    zn = l2_normalize(z)
    log_num, has_pos, count = _positive_part(zn, shard, loss.temperature, group)
    own = zn[: shard.num_owned]
    everyone = all_gather_rows(own, shard.counts, group, "embeddings")
    log_den = rows_log_denominator(own, everyone, shard.owned, loss.temperature, loss.block_size)
    return (log_den - log_num)[has_pos].sum() / count


def sharded_pamc(loss: PamCLoss, z: Tensor, q: Tensor, shard: GraphShard, group=None) -> Tensor:
    r"""This rank's part of :class:`~graphcl.losses.PamCLoss`.

    Positives as in :func:`sharded_neighbor_contrast`. The meta-nodes are sums over every
    node, so each rank sums its owned nodes and the ``K × d`` sums and ``K`` masses are
    combined in one differentiable all-reduce of ``[K, d + 1]``: ``4 K (d + 1)`` bytes per
    step, independent of ``N``, and the same again for its gradient in the backward pass.
    The meta-node contrast is then the same on every rank and counts ``1/R`` in each rank's
    share.

    Args:
        z: ``[n + h, d]`` embeddings of the owned and halo nodes.
        q: ``[n, K]`` soft assignments of the owned nodes.
    """
    zn = l2_normalize(z)
    log_num, has_pos, count = _positive_part(zn, shard, loss.temperature, group)
    own = z[: shard.num_owned]
    c, mass = loss.cluster_sums(own, q)
    # one transfer for both: [K, d + 1]
    both = all_reduce_sum(torch.cat([c, mass[:, None]], dim=1), group, "meta_nodes")
    if loss.negatives == "mass":  # per-node terms: this rank's nodes' share of the mean over N
        negative = loss.mass_log_denominators(own, both[:, :-1], both[:, -1]).sum() / shard.num_nodes
    else:  # the meta-node contrast is the same on every rank and counts 1/R in each share
        negative = loss.meta_node_contrast(both[:, :-1], both[:, -1]) / dist.get_world_size(group)
    return -log_num[has_pos].sum() / count + negative
