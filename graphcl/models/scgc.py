"""SCGC and SCGC*: MLP encoders clustered with a neighbour-contrastive loss (estimators)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.cluster import StudentTAssignment, kl_clustering_loss, kmeans_centers, reseed_empty_clusters, target_distribution
from graphcl.errors import GraphclInputError
from graphcl.losses import NeighborContrastLoss
from graphcl.models.base import GraphclEstimator, TrainingRun, graph_fingerprint, resolve_device, seed_from
from graphcl.models.minibatch import PARTNER_MODES, PositivePairBatches, anchor_batches
from graphcl.nn import AutoEncoder, MLPEncoder, encode_in_chunks, pretrain_autoencoder
from graphcl.ops import adjacency_power, normalize_adjacency
from graphcl.registry import register
from graphcl.validation import (
    check_bool,
    check_choice,
    check_edge_index,
    check_edge_weight,
    check_features,
    check_float,
    check_int,
    check_n_clusters,
    check_positive,
)

log = logging.getLogger(__name__)


def _reset_adam_moments(optimizer: torch.optim.Optimizer, param: Tensor, rows: Optional[Tensor] = None) -> None:
    """Zero Adam's first and second moments of ``param`` (only its ``rows``, when given), so
    that a parameter overwritten outside the optimiser starts its updates afresh."""
    state = optimizer.state.get(param, {})
    for key in ("exp_avg", "exp_avg_sq"):
        if key in state:
            if rows is None:
                state[key].zero_()
            else:
                state[key][rows] = 0.0


def unpack_graph(
    data: Any, edge_index: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None, who: str = "fit"
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Accept a PyG ``Data`` (``x``, ``edge_index``, optional ``edge_weight``) or tensors
    ``(x, edge_index[, edge_weight])``, checked once.

    Never reads ``data.y``. With a ``Data``, a second positional argument is taken for the
    scikit-learn ``y`` (``fit(data, y)``) and ignored when it is 1-D; ``who`` names the caller in
    messages. Returns validated ``(x, edge_index, edge_weight)``.
    """
    if hasattr(data, "node_types") and hasattr(data, "edge_types"):
        raise GraphclInputError(f"{who} trains on a homogeneous graph (a torch_geometric Data or tensors x, edge_index), "
                                f"got a {type(data).__name__}: use MEOW or AdaMEOW for heterogeneous graphs")
    if isinstance(data, (Tensor, np.ndarray)):
        x = torch.as_tensor(data)
        if edge_index is None:
            raise GraphclInputError(f"{who}: edge_index is required when fitting on a feature tensor (fit(x, edge_index))")
        edge_index = torch.as_tensor(edge_index)
        if edge_index.dim() == 1:
            raise GraphclInputError(f"{who}(x, edge_index): edge_index must have shape [2, num_edges], got a 1-D array of "
                                    f"length {edge_index.numel()} (labels? fit never reads labels)")
    else:
        x = getattr(data, "x", None)
        if x is None:
            raise GraphclInputError(f"{who}: the graph has no node features 'x' (give a Data with x and edge_index, "
                                    "or fit(x, edge_index))")
        if edge_index is not None and torch.as_tensor(edge_index).dim() == 1:
            edge_index = None  # fit(data, y), scikit-learn style: y is ignored
        elif edge_index is not None:
            raise GraphclInputError(f"{who}: give either a Data or (x, edge_index), not a Data and an edge_index")
        edge_index = getattr(data, "edge_index", None)
        if edge_index is None:
            raise GraphclInputError(f"{who}: the graph has no 'edge_index'")
        if edge_weight is None:
            edge_weight = getattr(data, "edge_weight", None)
    x = check_features(x, "x")
    edge_index = check_edge_index(edge_index, x.size(0))
    edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    return x, edge_index, edge_weight


@register("scgc", family="homogeneous", config=("scgc.yaml", "scgc"))
class SCGC(GraphclEstimator):
    r"""Simple Contrastive Graph Clustering (Kulatilleke et al., 2022).

    An MLP autoencoder (``d-500-500-2000-10`` by default, pretrained as in SDCN) is trained
    with

    .. math::
        \mathcal{L} = \beta\,\mathrm{KL}(P\,\|\,Q) + \alpha\,\mathcal{L}_{NC}(Z; W)
                      + \mathrm{MSE}(\hat X, X),

    where :math:`Q` is the Student-t soft assignment to learnable centres, :math:`P` its
    sharpened target (recomputed every epoch from the detached :math:`Q`),
    :math:`\mathcal{L}_{NC}` the neighbour-contrastive loss
    (:class:`graphcl.losses.NeighborContrastLoss`) with positive weights
    :math:`W = \hat A^r` (``influence=False``, SCGC) and :math:`\hat A = D^{-1}(A + I)`.
    The graph is used only inside the loss, so prediction needs node features alone.

    Training runs ``epochs`` epochs, full-batch by default; the reported clustering is the one
    at the **last** epoch (``argmax_k q_ik`` of the final model) — nothing is selected with
    labels.

    **Mini-batch** (``batch_size=B``): each epoch partitions the nodes into random batches of
    at most ``B`` *anchors* (:mod:`graphcl.models.minibatch`) and takes one optimiser step
    per batch. A batch's loss uses every positive pair whose row is an anchor, so an epoch uses
    each node and each positive pair once; the all-pairs denominator runs over the anchors (an
    unbiased sample of the ``N`` terms); the KL target uses the whole graph's cluster
    frequencies :math:`f_k` accumulated over the previous epoch. A partner's embedding comes
    from ``partners``:

    * ``"history"`` (default): a table ``H [N, d]`` of embeddings without gradient, filled by
      one pass of the encoder before training and updated with each batch's anchors (as
      GNNAutoScale keeps historical embeddings for message passing). Only the ``B`` anchors go
      through the encoder, so an epoch costs about one full-batch epoch; the gradient of a
      pair reaches its anchor end only (the partner end gets its gradient when the partner is
      an anchor, in the same epoch), and a partner's embedding is at most one epoch old.
    * ``"encode"``: the encoder is run on every partner too (exact gradients at both ends of
      the batch's pairs); an epoch costs about ``1 + \bar d_W`` full-batch epochs.

    Memory beyond ``X`` and ``W`` is ``O(B · h + N · d + B^2)`` (history) or
    ``O(B · (1 + \bar d_W) · h + B^2)`` (encode) instead of ``O(N · h + block · N)``.

    Args:
        n_clusters: ``K``.
        order: ``r``, the power of :math:`\hat A`.
        influence: Use :math:`\sum_{k\le r}\hat A^k` instead of :math:`\hat A^r` (IAC).
        alpha: Weight of the contrastive term.
        beta: Weight of the KL term.
        temperature: ``T`` in :math:`e^{s/T}` (the reference's ``tau`` is ``1/T``).
        lr: Adam learning rate.
        epochs: Training epochs.
        hidden_channels: Encoder hidden widths (an int is one hidden layer).
        embedding_dim: Size of ``z``.
        pretrain_epochs: Autoencoder pretraining epochs (SDCN: 30; 0 = random init).
        pretrain_lr: Pretraining learning rate.
        pretrain_batch_size: Pretraining batch size.
        kmeans_n_init: Restarts of the k-means that initialises the centres.
        block_size: Row block of the all-pairs denominator (memory ``O(block_size · N)``).
        batch_size: Anchors per mini-batch (``None``: full batch).
        partners: Mini-batch only: where a batch's partner embeddings come from,
            ``"history"`` (default) or ``"encode"`` (see above).
        random_state: Seed for pretraining, k-means and training: an int, ``None`` (a fresh
            seed, kept in ``random_state_``) or a NumPy ``Generator`` (one draw).
        pretrain_random_state: Seed of the autoencoder pretraining alone (its initial weights
            and batch order); ``None`` (default): ``random_state``'s seed, so each seed
            pretrains its own autoencoder. A fixed int shares one pretrained autoencoder across
            ``random_state`` seeds, as the reference does (it loads one SDCN ``.pkl`` for every
            run): only the k-means start and training then vary with the seed.
        device: ``"cpu"``, ``"cuda"``, or ``"auto"`` (ignored with ``distributed=True``: the
            process group's device is used).
        cache: Cache pretrained autoencoders (``True``, ``False`` or a folder).
        max_hours: Guard-rail for the exact all-pairs denominator (SCGC, SCGC* full-batch):
            above 20 000 nodes, ``fit`` first times a sample block on the device and raises
            :class:`GraphclInputError`, giving the estimate and suggesting PamC or
            mini-batch training, when ``epochs`` would take longer than this. ``None``
            disables the check.
        progress: Show a tqdm progress bar with the current loss (only when ``stderr`` is a
            terminal; see :mod:`graphcl.progress`).
        epoch_log: Write one row per epoch (loss terms, seconds) to this ``.csv`` or
            ``.jsonl`` file.
        checkpoint: Save the training state (weights, optimizer state, centres, epoch, loss
            history, RNG states) to this file every ``checkpoint_every`` epochs and after the
            last one; ``fit(data, resume=path)`` continues from it with exactly the result of an
            uninterrupted run. A non-finite loss stops training with an error naming the epoch
            and leaves the last good checkpoint in place.
        checkpoint_every: Epochs between checkpoints.
        distributed: Data-parallel full-batch training over the process group joined with
            :func:`graphcl.distributed.init_from_env` (every rank calls ``fit`` with the same
            graph; see :mod:`graphcl.distributed.training` and ``docs/distributed.md``). The
            result — attributes included — is the single-process one up to float rounding,
            and is available on every rank. Not combined with ``batch_size``.
        reseed_empty: When a cluster has lost every node (hard assignment ``argmax q``) at the
            end of an epoch, re-seed it by splitting the most spread cluster in two
            (:func:`graphcl.cluster.reseed_empty_clusters`, label-free, deterministic); the
            moved centres' optimiser moments are reset. The loss history then has a
            ``reseeded`` column (clusters re-seeded in that epoch). Mini-batch training checks
            once per epoch with a no-grad pass over every node. Not supported with
            ``distributed=True`` (``None``: on unless distributed).
        kl_warmup: Epochs at the start of training with the KL term switched off (the
            contrastive term trains the encoder alone); at the end of the warm-up the centres
            are re-initialised by k-means on the embedding (``kmeans_n_init`` restarts, their
            optimiser moments reset), as DEC initialises them after pretraining. DEC's KL
            self-training sharpens whatever clusters it starts from, so it needs a trained
            embedding to start from: ``None`` (default) warms up for ``epochs // 2`` epochs
            when there is no autoencoder pretraining (``pretrain_epochs=0``), else 0 (the
            pretrained autoencoder is the warm-up, as in the reference). Not supported with
            ``distributed=True`` (``None`` gives 0 there). See ``docs/scgc.md``.

    Attributes:
        labels_ (np.ndarray): ``[N]`` cluster of each training node.
        soft_assignments_ (np.ndarray): ``[N, K]`` final :math:`Q`.
        cluster_centers_ (np.ndarray): ``[K, embedding_dim]``.
        embeddings_ (np.ndarray): ``[N, embedding_dim]`` final :math:`Z`.
        loss_history_ (list[dict]): Per-epoch loss terms.
        timings_ (dict): ``prepare_seconds``, ``pretrain_seconds``, ``train_seconds``
            (epochs + k-means init) and ``epoch_seconds`` (list).
    """

    _has_decoder = True
    _default_influence = False
    saved_attributes = ("labels_", "embeddings_", "soft_assignments_", "cluster_centers_", "loss_history_", "timings_")

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        order: int = 1,
        influence: Optional[bool] = None,
        alpha: float = 1.0,
        beta: float = 0.1,
        temperature: float = 4.0,
        lr: float = 1e-3,
        epochs: int = 200,
        hidden_channels: Sequence[int] = (500, 500, 2000),
        embedding_dim: int = 10,
        pretrain_epochs: int = 30,
        pretrain_lr: float = 1e-3,
        pretrain_batch_size: int = 256,
        kmeans_n_init: int = 20,
        block_size: int = 256,
        batch_size: Optional[int] = None,
        partners: str = "history",
        random_state: Any = 0,
        device: Union[str, torch.device] = "cpu",
        cache: Union[bool, str] = True,
        max_hours: Optional[float] = 24.0,
        progress: bool = False,
        epoch_log: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_every: int = 10,
        distributed: bool = False,
        reseed_empty: Optional[bool] = False,
        pretrain_random_state: Optional[int] = None,
        kl_warmup: Optional[int] = None,
        **deprecated: Any,
    ) -> None:
        self.n_clusters = n_clusters
        self.order = order
        self.influence = influence
        self.alpha = alpha
        self.beta = beta
        self.temperature = temperature
        self.lr = lr
        self.epochs = epochs
        self.hidden_channels = hidden_channels
        self.embedding_dim = embedding_dim
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.pretrain_batch_size = pretrain_batch_size
        self.kmeans_n_init = kmeans_n_init
        self.block_size = block_size
        self.batch_size = batch_size
        self.partners = partners
        self.random_state = random_state
        self.device = device
        self.cache = cache
        self.max_hours = max_hours
        self.progress = progress
        self.epoch_log = epoch_log
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed
        self.reseed_empty = reseed_empty
        self.pretrain_random_state = pretrain_random_state
        self.kl_warmup = kl_warmup
        self._take_deprecated(deprecated)

    # -- building blocks -------------------------------------------------------------------
    def _use_influence(self) -> bool:
        return self._default_influence if self.influence is None else bool(self.influence)

    def positive_weights(
        self, edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int
    ) -> Tuple[Tensor, Tensor]:
        """The sparse positive-weight matrix ``W`` (``Â^r`` or the influence matrix)."""
        ei, w = normalize_adjacency(edge_index, edge_weight, num_nodes, mode="row")
        return adjacency_power(ei, w, num_nodes, self.order, cumulative=self._use_influence())

    def _hidden(self) -> Tuple[int, ...]:
        h = self.hidden_channels
        return (h,) if isinstance(h, (int, np.integer)) else tuple(h)

    def _check_params(self, num_nodes: int) -> None:
        check_n_clusters(self.n_clusters, num_nodes)
        self._check_common_params()
        check_int(self.order, "order")
        if self.influence is not None:
            check_bool(self.influence, "influence")
        for name in ("alpha", "beta"):
            check_float(getattr(self, name), name, 0.0)
        for name in ("temperature", "lr", "pretrain_lr"):
            check_positive(getattr(self, name), name)
        h = self.hidden_channels
        if isinstance(h, (str, bytes)) or not isinstance(h, (int, np.integer, Sequence, np.ndarray)):
            raise GraphclInputError(f"hidden_channels must be an int or a sequence of ints, got {h!r}")
        for i, width in enumerate(self._hidden()):
            check_int(width, f"hidden_channels[{i}]")
        for name in ("embedding_dim", "pretrain_batch_size", "kmeans_n_init", "block_size"):
            check_int(getattr(self, name), name)
        check_int(self.pretrain_epochs, "pretrain_epochs", minimum=0)
        if self.pretrain_random_state is not None:
            check_int(self.pretrain_random_state, "pretrain_random_state", minimum=0, maximum=2**32 - 1)
        b = check_int(self.batch_size, "batch_size", minimum=2, allow_none=True)
        check_choice(self.partners, "partners", PARTNER_MODES)
        check_float(self.max_hours, "max_hours", 0.0, min_inclusive=False, allow_none=True)
        if not isinstance(self.cache, (bool, str, os.PathLike)):
            raise GraphclInputError(f"cache must be True, False or a folder, got {self.cache!r}")
        check_bool(self.distributed, "distributed")
        if self.reseed_empty is not None:
            check_bool(self.reseed_empty, "reseed_empty")
        if self.distributed and b is not None:
            raise GraphclInputError("distributed=True trains full-batch: set batch_size=None")
        if self.distributed and self.reseed_empty is True:
            raise GraphclInputError("reseed_empty is not supported with distributed=True")
        warmup = check_int(self.kl_warmup, "kl_warmup", minimum=0, allow_none=True)
        if self.distributed and warmup:
            raise GraphclInputError("kl_warmup is not supported with distributed=True")

    def _kl_warmup_epochs(self) -> int:
        """The warm-up length ``kl_warmup`` resolves to (see the class docstring)."""
        if self.kl_warmup is not None:
            return int(self.kl_warmup)
        return self.epochs // 2 if self.pretrain_epochs == 0 and not self.distributed else 0

    def build_network(
        self, x: Tensor, device: torch.device, pretrain: bool = True
    ) -> Tuple[MLPEncoder, Optional[torch.nn.Module]]:
        """The (pretrained, unless ``pretrain=False``) encoder and decoder, in train mode."""
        ae = pretrain_autoencoder(
            x,
            self._hidden(),
            self.embedding_dim,
            epochs=self.pretrain_epochs if pretrain else 0,
            lr=self.pretrain_lr,
            batch_size=self.pretrain_batch_size,
            random_state=self._pretrain_seed(),
            device=device,
            cache=self.cache if pretrain else False,
        )
        ae.train()
        if self._has_decoder:
            return ae.encoder, ae.decoder
        return ae.encoder, None

    def _pretrain_seed(self) -> int:
        if self.pretrain_random_state is not None:
            return seed_from(self.pretrain_random_state, "pretrain_random_state")
        return self.random_state_ if hasattr(self, "random_state_") else seed_from(self.random_state)

    # -- estimator API ---------------------------------------------------------------------
    def fit(
        self, data: Any, edge_index: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None, y: Any = None,
        resume: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> "SCGC":
        """Fit on a graph. ``data`` is a PyG ``Data`` (``fit(data)``, or scikit-learn's
        ``fit(data, y)``) or a feature tensor ``[N, d]`` given with ``edge_index``. Labels are
        never read (``y`` is accepted and ignored). Every argument and the graph are checked
        before any work starts. ``resume``: a training checkpoint (see ``checkpoint``) of this
        estimator's settings on this graph, to continue from; ``epochs`` may be larger than when
        it was written.
        """
        x, edge_index, edge_weight = unpack_graph(data, edge_index, edge_weight, f"{type(self).__name__}.fit")
        self._check_params(x.size(0))
        if resume is not None and self.distributed:
            raise GraphclInputError("resume is not supported with distributed=True")
        if self.distributed:
            from graphcl.distributed.env import current_context

            device = current_context().device
        else:
            device = resolve_device(self.device)
        self._seeded(self._fit, x, edge_index, edge_weight, device, resume)
        return self

    def _graph_facts(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], full: bool) -> Dict[str, Any]:
        """What a training checkpoint records of the graph: sizes, and (``full``) a fingerprint
        of the features and edges, so that a resume on another graph of the same size fails."""
        facts: Dict[str, Any] = {"num_nodes": x.size(0), "num_features": x.size(1)}
        if full:
            facts["fingerprint"] = graph_fingerprint((x, edge_index, edge_weight))
        return facts

    def _fit(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], device: torch.device,
             resume: Optional[Union[str, "os.PathLike[str]"]] = None) -> None:
        n = x.size(0)
        graph = self._graph_facts(x, edge_index, edge_weight, bool(self.checkpoint) or resume is not None)
        state = None if resume is None else self.read_checkpoint(resume, graph)
        timings: Dict[str, Any] = {}
        x = x.to(device, torch.float32)
        t0 = time.perf_counter()
        w_index, w_value = self.positive_weights(edge_index.to(device), None if edge_weight is None else edge_weight.to(device), n)
        timings["prepare_seconds"] = time.perf_counter() - t0
        self._check_all_pairs_cost(n, device)

        if self.distributed:
            from graphcl.distributed.env import current_context
            from graphcl.distributed.training import fit_sharded

            out = fit_sharded(self, x, w_index, w_value, current_context(), timings)
            self._finish(out["encoder"], out["decoder"], out["assign"], out["z"], out["q"], out["history"], timings, x, device)
            return

        t0 = time.perf_counter()
        encoder, decoder = self.build_network(x, device, pretrain=state is None)
        timings["pretrain_seconds"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        assign = StudentTAssignment(self.n_clusters, self.embedding_dim).to(device)
        z0 = None
        if state is None:
            z0 = encode_in_chunks(encoder, x, self._chunk(n))
            assign.set_centers(kmeans_centers(z0, self.n_clusters, self.random_state_, self.kmeans_n_init))
        modules = {"encoder": encoder, "assign": assign, "decoder": decoder}
        params = [p for m in modules.values() if m is not None for p in m.parameters()]
        optimizer = torch.optim.Adam(params, lr=self.lr)
        contrast = self.contrastive_loss()
        extra = {}
        if self.batch_size is None:
            def step() -> Dict[str, float]:
                return self._step(x, w_index, w_value, encoder, decoder, assign, contrast, optimizer)
        else:
            step = extra["minibatch"] = self._minibatch_epochs(x, w_index, w_value, z0, encoder, decoder, assign, contrast,
                                                               optimizer)
        del z0
        run = TrainingRun(modules, optimizer, graph, extra)
        start, history = 0, []
        if state is not None:
            start, history = run.restore(state)
            log.info("%s: resuming after epoch %d", type(self).__name__, start - 1)
        step = self._with_kl_warmup(step, start, x, encoder, assign, optimizer)
        history, timings["epoch_seconds"] = self.run_epochs(step, device, run=run, start=start, history=history)
        timings["train_seconds"] = time.perf_counter() - t0
        self._optimizer = optimizer  # its state goes into save(path)

        encoder.eval()
        with torch.no_grad():
            z = encode_in_chunks(encoder, x, self._chunk(n))
            q = assign(z)
        self._finish(encoder, decoder, assign, z, q, history, timings, x, device)

    def _with_kl_warmup(self, step, start: int, x: Tensor, encoder, assign: StudentTAssignment, optimizer):
        """``step`` with the KL term off for the first ``kl_warmup`` epochs and the centres
        re-initialised by k-means on the embedding when the warm-up ends (``start``: the first
        epoch run now, after a resume)."""
        warmup = self._kl_warmup_epochs()
        self._kl_on = start >= warmup
        if warmup == 0 or start > warmup:
            return step
        epoch = [start]

        def warm_step() -> Dict[str, float]:
            if epoch[0] == warmup:
                self._restart_clusters(x, encoder, assign, optimizer, step)
            self._kl_on = epoch[0] >= warmup
            epoch[0] += 1
            return step()

        return warm_step

    @torch.no_grad()
    def _restart_clusters(self, x: Tensor, encoder, assign: StudentTAssignment, optimizer, step) -> None:
        """k-means centres on the current embedding (the end of ``kl_warmup``); Adam's moments
        of the centres start afresh, and a mini-batch epoch's carried statistics are recomputed."""
        z = encode_in_chunks(encoder, x, self._chunk(x.size(0)))
        assign.set_centers(kmeans_centers(z, self.n_clusters, self.random_state_, self.kmeans_n_init))
        _reset_adam_moments(optimizer, assign.centers)
        refresh = getattr(step, "refresh", None)
        if refresh is not None:
            refresh(z, assign(z))
        log.info("%s: KL warm-up over, centres re-initialised by k-means", type(self).__name__)

    #: Whether the contrastive term has the exact O(N^2) all-pairs denominator.
    _all_pairs = True
    #: Below this many nodes an exact epoch takes seconds: no guard-rail measurement.
    GUARD_MIN_NODES = 20_000

    def _check_all_pairs_cost(self, n: int, device: torch.device) -> None:
        """Refuse a full-batch exact run that would take more than ``max_hours`` (measured)."""
        if not self._all_pairs or self.batch_size is not None or self.max_hours is None or n < self.GUARD_MIN_NODES:
            return
        from graphcl.losses.neighbor_contrast import estimate_all_pairs_seconds

        ranks = 1
        if self.distributed:
            import torch.distributed as dist

            ranks = dist.get_world_size()
        per_epoch = estimate_all_pairs_seconds(n, self.embedding_dim, self.temperature, self.block_size, device) / ranks
        hours = per_epoch * self.epochs / 3600
        if hours > self.max_hours:
            raise GraphclInputError(
                f"{type(self).__name__}'s exact all-pairs loss on {n} nodes would take about {hours:.1f} h "
                f"({per_epoch:.1f} s per epoch x {self.epochs} epochs, measured on {device}), more than max_hours="
                f"{self.max_hours:g}: use PamC (graphcl.models.PamC, linear in N), mini-batch training (batch_size=...), "
                f"or raise max_hours"
            )
        log.info("%s: exact all-pairs loss, about %.1f s per epoch on %d nodes", type(self).__name__, per_epoch, n)

    # -- saved files ---------------------------------------------------------------------------
    def _fitted_modules(self) -> Dict[str, Optional[torch.nn.Module]]:
        return {"encoder": self.encoder_, "assign": self.assignment_, "decoder": self.decoder_}

    def _checkpoint_extra(self) -> Dict[str, Any]:
        return {"num_features": self.n_features_in_}

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device: torch.device) -> "SCGC":
        est = cls(**payload["params"])
        ae = AutoEncoder(payload["num_features"], est._hidden(), est.embedding_dim)
        assign = StudentTAssignment(est.n_clusters, est.embedding_dim)
        decoder = ae.decoder if "decoder" in payload["state"] else None
        for key, module in (("encoder", ae.encoder), ("assign", assign), ("decoder", decoder)):
            if module is not None:
                module.load_state_dict(payload["state"][key])
        est.encoder_, est.assignment_ = ae.encoder.to(device).eval(), assign.to(device)
        est.decoder_ = None if decoder is None else decoder.to(device)
        est._restore_attributes(payload)
        est.n_features_in_, est.device_ = payload["num_features"], device
        return est

    def _finish(self, encoder, decoder, assign, z: Tensor, q: Tensor, history, timings, x: Tensor, device) -> None:
        """Set the fitted attributes from the final (eval-mode) ``z [N, d]`` and ``q [N, K]``."""
        self.encoder_ = encoder
        self.decoder_ = decoder
        self.assignment_ = assign
        self.embeddings_ = z.cpu().numpy()
        self.soft_assignments_ = q.cpu().numpy()
        self.labels_ = q.argmax(dim=1).cpu().numpy()
        self._warn_cluster_count(self.labels_)  # DEC-style self-training can empty a cluster
        self.cluster_centers_ = assign.centers.detach().cpu().numpy()
        self.loss_history_ = history
        self.timings_ = timings
        self.n_features_in_ = x.size(1)
        self.device_ = device

    def _chunk(self, num_nodes: int) -> int:
        """Rows per no-grad encoder pass: everything at once in full-batch mode."""
        return num_nodes if self.batch_size is None else max(self.batch_size, 4096)

    def _minibatch_epochs(self, x, w_index, w_value, z0, encoder, decoder, assign, contrast, optimizer):
        """Return a function that runs one mini-batch epoch and returns its mean loss terms."""
        n, device = x.size(0), x.device
        pairs = PositivePairBatches(w_index, w_value, n)
        gen = torch.Generator().manual_seed(self.random_state_)
        history = self.partners == "history"
        state: Dict[str, Any] = {"stats": None, "history": None}
        if z0 is not None:  # (a resumed run restores them)
            with torch.no_grad():
                state["stats"] = self._batch_statistics(z0, assign(z0))  # the whole graph's, at the initial state
            if history:
                state["history"] = z0  # (no-grad, and _fit drops its own reference: the table owns it)

        def run_epoch() -> Dict[str, float]:
            stats, table = state["stats"], state["history"]
            totals: Dict[str, float] = {}
            new_stats = None
            for anchors in anchor_batches(n, self.batch_size, gen, device):
                nodes, anchor_pos, local_ei, weight = pairs.gather(anchors)
                if history:  # only the anchors go through the encoder; partners from the table
                    za = encoder(x[anchors])
                    z = table[nodes]
                    z[anchor_pos] = za  # (a fresh tensor: the gradient flows into za)
                else:
                    z = encoder(x[nodes])
                    za = z[anchor_pos]
                q = assign(za)
                p = target_distribution(q.detach(), freq=stats["freq"])
                kl = kl_clustering_loss(p, q)
                nc = self._batch_contrast_term(contrast, z, anchor_pos, local_ei, weight, q, stats, n)
                terms = self._optimise(kl, nc, za, x[anchors], decoder, optimizer)
                share = anchors.numel() / n
                for key, v in terms.items():
                    totals[key] = totals.get(key, 0.0) + share * v
                with torch.no_grad():
                    part = self._batch_statistics(za.detach(), q.detach())
                    if history:
                        table[anchors] = za.detach()
                new_stats = part if new_stats is None else {k: new_stats[k] + part[k] for k in part}
            state["stats"] = new_stats  # the whole graph's, accumulated over this epoch
            if self._reseeding():
                with torch.no_grad():
                    z_all = encode_in_chunks(encoder, x, self._chunk(n))
                    totals["reseeded"] = self._reseed(z_all, assign(z_all), assign, optimizer)
                    if history:  # the pass is made anyway: refresh the whole table
                        table.copy_(z_all)
            return totals

        def state_dict() -> Dict[str, Any]:
            return {"stats": state["stats"], "history": state["history"], "generator": gen.get_state()}

        def load_state_dict(saved: Dict[str, Any]) -> None:
            state["stats"] = {k: v.to(device) for k, v in saved["stats"].items()}
            if history:
                if saved.get("history") is None:
                    raise GraphclInputError("the checkpoint was written with partners='encode': resume with that value")
                state["history"] = saved["history"].to(device)
            gen.set_state(saved["generator"])

        def refresh(z_all: Tensor, q_all: Tensor) -> None:  # the whole graph's statistics, now (kl_warmup's end)
            state["stats"] = self._batch_statistics(z_all, q_all)
            if history:
                state["history"].copy_(z_all)

        run_epoch.state_dict, run_epoch.load_state_dict = state_dict, load_state_dict  # type: ignore[attr-defined]
        run_epoch.refresh = refresh  # type: ignore[attr-defined]
        return run_epoch

    def _batch_statistics(self, z: Tensor, q: Tensor) -> Dict[str, Tensor]:
        """Sums over nodes that mini-batch training carries from one epoch to the next
        (``O(K)``): the cluster frequencies of the KL target."""
        return {"freq": q.sum(dim=0)}

    def _batch_contrast_term(self, contrast, z, anchor_pos, edge_index, edge_weight, q, stats, num_nodes) -> Tensor:
        return contrast(z, edge_index, edge_weight, anchors=anchor_pos)

    def sharded_contrast_term(self, contrast, z, q, shard, group) -> Tensor:
        """This rank's share of the contrastive term (the hook :mod:`graphcl.distributed` calls)."""
        from graphcl.distributed.losses import sharded_neighbor_contrast

        return sharded_neighbor_contrast(contrast, z, shard, group)

    def contrastive_loss(self) -> torch.nn.Module:
        """The contrastive loss module (also what :mod:`graphcl.distributed` trains with)."""
        return NeighborContrastLoss(self.temperature, self.block_size, check_inputs=False)  # fit checked the edges

    def _contrast_term(self, contrast, z: Tensor, w_index: Tensor, w_value: Tensor, q: Tensor) -> Tensor:
        return contrast(z, w_index, w_value)

    def _step(self, x, w_index, w_value, encoder, decoder, assign, contrast, optimizer) -> Dict[str, float]:
        z = encoder(x)
        q = assign(z)
        p = target_distribution(q.detach())
        kl = kl_clustering_loss(p, q)
        nc = self._contrast_term(contrast, z, w_index, w_value, q)
        terms = self._optimise(kl, nc, z, x, decoder, optimizer)
        if self._reseeding():
            terms["reseeded"] = self._reseed(z.detach(), q.detach(), assign, optimizer)
        return terms

    def _reseeding(self) -> bool:
        """Whether empty clusters are re-seeded (``reseed_empty=None``: unless distributed)."""
        return (not self.distributed) if self.reseed_empty is None else bool(self.reseed_empty)

    @torch.no_grad()
    def _reseed(self, z: Tensor, q: Tensor, assign: StudentTAssignment, optimizer) -> float:
        """Re-seed the clusters without a node in ``argmax q`` (see ``reseed_empty``); returns
        how many were re-seeded."""
        labels = q.argmax(dim=1)
        if bool((torch.bincount(labels, minlength=self.n_clusters) > 0).all()):
            return 0.0
        centers, _, moved = reseed_empty_clusters(z, labels, assign.centers)
        changed = torch.nonzero((centers != assign.centers).any(dim=1)).view(-1)
        assign.centers.copy_(centers)
        _reset_adam_moments(optimizer, assign.centers, changed)  # the moved centres' moments start afresh
        log.info("%s: re-seeded empty cluster(s) %s", type(self).__name__, moved)
        return float(len(moved))

    def _optimise(self, kl: Tensor, nc: Tensor, z: Tensor, x: Tensor, decoder, optimizer) -> Dict[str, float]:
        """``β·KL + α·contrast`` (+ reconstruction of ``x`` from ``z`` for SCGC); one optimiser
        step; returns the loss terms as floats."""
        beta = self.beta if getattr(self, "_kl_on", True) else 0.0  # off during kl_warmup
        loss = beta * kl + self.alpha * nc
        terms = {"kl": kl, "contrast": nc}
        if decoder is not None:
            rec = F.mse_loss(decoder(z), x)
            loss = loss + rec
            terms["reconstruction"] = rec
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        terms["loss"] = loss
        return {k: float(v.detach()) for k, v in terms.items()}

    def _features(self, x: Any) -> Tensor:
        self._check_fitted()
        if not isinstance(x, Tensor):
            x = getattr(x, "x", x)
        x = check_features(torch.as_tensor(x), "x")
        if x.size(1) != self.n_features_in_:
            raise GraphclInputError(f"x has {x.size(1)} features, the model was fitted on {self.n_features_in_}")
        return x.to(self.device_, torch.float32)

    @torch.no_grad()
    def transform(self, x: Any) -> np.ndarray:
        """Embeddings ``[N', embedding_dim]`` of (possibly unseen) nodes from features alone."""
        x = self._features(x)
        return self.encoder_(x).cpu().numpy()

    @torch.no_grad()
    def predict_proba(self, x: Any) -> np.ndarray:
        """Soft assignments ``[N', K]`` of nodes from their features alone (no graph needed)."""
        x = self._features(x)
        return self.assignment_(self.encoder_(x)).cpu().numpy()

    def predict(self, x: Any) -> np.ndarray:
        """Cluster of each node ``[N']`` from its features alone (``x`` or a ``Data``)."""
        return self.predict_proba(x).argmax(axis=1)

    def fit_predict(self, data: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """``fit(data).labels_``."""
        return self.fit(data, **kwargs).labels_


@register("scgc_star", family="homogeneous", config=("scgc.yaml", "scgc_star"))
class SCGCStar(SCGC):
    r"""SCGC* (Kulatilleke et al., 2022): SCGC with the Influence Augmented Contrastive loss
    and the trimmed, encoder-only network.

    .. math::
        \mathcal{L} = \beta\,\mathrm{KL}(P\,\|\,Q) + \alpha\,\mathcal{L}_{NC}\Big(Z;\;
        W = \sum_{k=1}^{r}\hat A^k\Big)

    No decoder and no reconstruction term (half SCGC's parameters); the positive weights are
    the cumulative influence matrix. All arguments and attributes are those of
    :class:`SCGC`; ``influence`` defaults to ``True``.
    """

    _has_decoder = False
    _default_influence = True
