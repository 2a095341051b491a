"""Data-parallel training of the homogeneous estimators (SCGC, SCGC*, PamC) on a process group.

What :meth:`graphcl.models.SCGC.fit` runs with ``distributed=True``: every rank is given the
same graph, keeps its :class:`~graphcl.distributed.shard.GraphShard`, and trains a
``DistributedDataParallel`` replica of the encoder and the cluster centres on its share of
the loss (:mod:`graphcl.distributed.losses`). Rank 0 pretrains the autoencoder and
initialises the centres by k-means; DDP broadcasts both when it wraps the network, so every
replica starts from rank 0's state and, since every rank applies the same averaged gradient,
stays equal to it.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from graphcl.cluster import StudentTAssignment, kmeans_centers
from graphcl.distributed.collectives import all_gather_rows, all_reduce_sum, collective_error, is_communication_error, record
from graphcl.distributed.env import DistributedContext
from graphcl.distributed.losses import sharded_kl
from graphcl.distributed.shard import GraphShard, shard_graph
from graphcl.errors import GraphclDistributedError
from graphcl.nn.chunked import encode_in_chunks


class ShardNet(nn.Module):
    """Encoder, cluster centres and (SCGC) decoder as one module, so that one DDP wrapper
    synchronises all of them.

    ``forward(x [n + h, F], num_owned) -> (z [n + h, d], q [n, K], x_hat [n, F] or None)``.
    """

    def __init__(self, encoder: nn.Module, assign: StudentTAssignment, decoder: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.assign = assign
        self.decoder = decoder

    def forward(self, x: Tensor, num_owned: int) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
        z = self.encoder(x)
        own = z[:num_owned]
        x_hat = self.decoder(own) if self.decoder is not None else None
        return z, self.assign(own), x_hat


def _counting_allreduce_hook(process_group, bucket):
    """DDP's default all-reduce, with the bucket's bytes added to the communication log."""
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks

    record("ddp_gradients", bucket.buffer())
    return default_hooks.allreduce_hook(process_group, bucket)


def wrap_ddp(net: nn.Module, ctx: DistributedContext) -> DistributedDataParallel:
    """``DistributedDataParallel`` on the context's group and device; broadcasts rank 0's
    parameters now and counts the gradient bytes of every step (see
    :func:`graphcl.distributed.count_communication`)."""
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    try:
        ddp = DistributedDataParallel(net, device_ids=device_ids, process_group=ctx.group)
    except RuntimeError as exc:
        raise collective_error("DistributedDataParallel (parameter broadcast)", exc, ctx.group) from exc
    ddp.register_comm_hook(ctx.group, _counting_allreduce_hook)
    return ddp


def sharded_step(estimator: Any, net: nn.Module, shard: GraphShard, contrast: nn.Module,
                 optimizer: torch.optim.Optimizer, ctx: DistributedContext) -> Dict[str, float]:
    r"""One full-graph optimisation step, split over the ranks.

    Computes this rank's share :math:`L_r` of
    :math:`\beta\,\mathrm{KL} + \alpha\,\mathcal{L}_{contrast} (+ \mathrm{MSE})`, back-propagates
    :math:`R \cdot L_r` (DDP averages the gradients over the ``R`` ranks, so the parameters
    receive :math:`\nabla L`) and steps the optimiser.

    Returns:
        The full-graph loss terms (summed over ranks), the same on every rank.
    """
    try:
        return _sharded_step(estimator, net, shard, contrast, optimizer, ctx)
    except RuntimeError as exc:
        if isinstance(exc, GraphclDistributedError) or not is_communication_error(exc):
            raise
        raise collective_error("training step (DDP or a loss collective)", exc, ctx.loss_group) from exc


def _sharded_step(estimator, net, shard, contrast, optimizer, ctx) -> Dict[str, float]:
    n = shard.num_owned
    group = ctx.loss_group
    z, q, x_hat = net(shard.x, n)
    kl = sharded_kl(q, shard, group)
    nc = estimator.sharded_contrast_term(contrast, z, q, shard, group)
    loss = estimator.beta * kl + estimator.alpha * nc
    terms = {"kl": kl, "contrast": nc}
    if x_hat is not None:
        rec = F.mse_loss(x_hat, shard.x[:n], reduction="sum") / (shard.num_nodes * shard.x.size(1))
        loss = loss + rec
        terms["reconstruction"] = rec
    terms["loss"] = loss
    optimizer.zero_grad(set_to_none=True)
    (loss * ctx.world_size).backward()
    optimizer.step()
    values = all_reduce_sum(torch.stack([t.detach() for t in terms.values()]), group, "loss_terms")
    return dict(zip(terms, values.tolist()))


def fit_sharded(estimator: Any, x: Tensor, w_index: Tensor, w_value: Tensor, ctx: DistributedContext,
                timings: Dict[str, Any]) -> Dict[str, Any]:
    """Train ``estimator``'s network on this rank's shard (see the module docstring).

    Args:
        estimator: A :class:`graphcl.models.SCGC` (or subclass) with its parameters checked.
        x: ``[N, F]`` features of the whole graph, on ``ctx.device``.
        w_index, w_value: The whole graph's positive weights ``W``.
        ctx: The process group.
        timings: Filled with ``pretrain_seconds``, ``train_seconds``, ``epoch_seconds``.

    Returns:
        ``encoder``, ``decoder``, ``assign``, ``z [N, d]`` and ``q [N, K]`` (every node's,
        gathered onto every rank), ``history`` and ``shard``.
    """
    n_total = x.size(0)
    shard = shard_graph(x, w_index, w_value, ctx.rank, ctx.world_size)
    t0 = time.perf_counter()
    # Rank 0 pretrains; the others only need a network of the same shape for DDP to overwrite.
    encoder, decoder = estimator.build_network(x, ctx.device, pretrain=ctx.is_main)
    timings["pretrain_seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    assign = StudentTAssignment(estimator.n_clusters, estimator.embedding_dim).to(ctx.device)
    if ctx.is_main:
        z0 = encode_in_chunks(encoder, x, n_total)
        assign.set_centers(kmeans_centers(z0, estimator.n_clusters, estimator.random_state_, estimator.kmeans_n_init))
        del z0
    net = wrap_ddp(ShardNet(encoder, assign, decoder), ctx)
    optimizer = torch.optim.Adam(net.parameters(), lr=estimator.lr)
    contrast = estimator.contrastive_loss()
    history, timings["epoch_seconds"] = estimator.run_epochs(
        lambda: sharded_step(estimator, net, shard, contrast, optimizer, ctx), ctx.device, main=ctx.is_main)
    timings["train_seconds"] = time.perf_counter() - t0

    encoder.eval()
    with torch.no_grad():
        z_own = encode_in_chunks(encoder, shard.x[: shard.num_owned], shard.num_owned)
        q_own = assign(z_own)
        z, q = gather_predictions(z_own, shard, ctx), gather_predictions(q_own, shard, ctx)
    return {"encoder": encoder, "decoder": decoder, "assign": assign, "z": z, "q": q,
            "history": history, "shard": shard}


def gather_predictions(values: Tensor, shard: GraphShard, ctx: DistributedContext) -> Tensor:
    """Every rank's rows of a per-node result (labels, embeddings), concatenated in node
    order on every rank."""
    return all_gather_rows(values.detach(), shard.counts, ctx.loss_group, "predictions")


