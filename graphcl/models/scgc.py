"""SCGC and SCGC*: MLP encoders clustered with a neighbour-contrastive loss (estimators)."""

from __future__ import annotations

import logging
import os
import time
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClusterMixin
from torch import Tensor

from graphcl.checkpoint import check_checkpoint_every, due, non_finite_error
from graphcl.cluster import StudentTAssignment, kl_clustering_loss, kmeans_centers, target_distribution
from graphcl.errors import GraphclInputError
from graphcl.losses import NeighborContrastLoss
from graphcl.models.minibatch import PositivePairBatches, anchor_batches, encode_in_chunks
from graphcl.nn import AutoEncoder, MLPEncoder, pretrain_autoencoder
from graphcl.ops import adjacency_power, normalize_adjacency
from graphcl.progress import EpochMonitor
from graphcl.validation import check_edge_index, check_edge_weight, check_features, check_int, check_n_clusters, check_positive

log = logging.getLogger(__name__)


def resolve_device(device: Union[str, torch.device, None]) -> torch.device:
    """``"auto"``/``None`` -> CUDA when available, else CPU; anything else as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GraphclInputError(f"device={device!r} requested but CUDA is not available")
    return dev


def unpack_graph(
    data: Any, edge_index: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None
) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Accept a PyG ``Data`` (``x``, ``edge_index``, optional ``edge_weight``) or tensors.

    Never reads ``data.y``. Returns validated ``(x, edge_index, edge_weight)``.
    """
    if isinstance(data, Tensor):
        x = data
        if edge_index is None:
            raise GraphclInputError("edge_index is required when fitting on a feature tensor")
    else:
        x = getattr(data, "x", None)
        if x is None:
            raise GraphclInputError("the graph has no node features 'x'")
        edge_index = data.edge_index if edge_index is None else edge_index
        if edge_weight is None:
            edge_weight = getattr(data, "edge_weight", None)
    x = check_features(x, "x")
    edge_index = check_edge_index(edge_index, x.size(0))
    edge_weight = check_edge_weight(edge_weight, edge_index.size(1))
    return x, edge_index, edge_weight


class SCGC(ClusterMixin, BaseEstimator):
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
    per batch. A batch's loss uses every positive pair whose row is an anchor (its partner's
    embedding is the encoder applied to the partner's features), so an epoch uses each node
    and each positive pair once; the all-pairs denominator runs over the anchors (an unbiased
    sample of the ``N`` terms); the KL target uses the whole graph's cluster frequencies
    :math:`f_k` accumulated over the previous epoch. Memory beyond ``X`` and ``W`` is
    ``O(B · (1 + \bar d_W) · h + B^2)`` instead of ``O(N · h + block · N)``.

    Args:
        n_clusters: ``K``.
        order: ``r``, the power of :math:`\hat A`.
        influence: Use :math:`\sum_{k\le r}\hat A^k` instead of :math:`\hat A^r` (IAC).
        alpha: Weight of the contrastive term.
        beta: Weight of the KL term.
        temperature: ``T`` in :math:`e^{s/T}` (the reference's ``tau`` is ``1/T``).
        lr: Adam learning rate.
        epochs: Training epochs.
        hidden_channels: Encoder hidden widths.
        embedding_dim: Size of ``z``.
        pretrain_epochs: Autoencoder pretraining epochs (SDCN: 30; 0 = random init).
        pretrain_lr: Pretraining learning rate.
        pretrain_batch_size: Pretraining batch size.
        kmeans_n_init: Restarts of the k-means that initialises the centres.
        block_size: Row block of the all-pairs denominator (memory ``O(block_size · N)``).
        batch_size: Anchors per mini-batch (``None``: full batch).
        random_state: Seed for pretraining, k-means and training.
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
        random_state: int = 0,
        device: Union[str, torch.device] = "cpu",
        cache: Union[bool, str] = True,
        max_hours: Optional[float] = 24.0,
        progress: bool = False,
        epoch_log: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_every: int = 10,
        distributed: bool = False,
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
        self.random_state = random_state
        self.device = device
        self.cache = cache
        self.max_hours = max_hours
        self.progress = progress
        self.epoch_log = epoch_log
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed

    # -- building blocks -------------------------------------------------------------------
    def _use_influence(self) -> bool:
        return self._default_influence if self.influence is None else bool(self.influence)

    def positive_weights(
        self, edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int
    ) -> Tuple[Tensor, Tensor]:
        """The sparse positive-weight matrix ``W`` (``Â^r`` or the influence matrix)."""
        ei, w = normalize_adjacency(edge_index, edge_weight, num_nodes, mode="row")
        return adjacency_power(ei, w, num_nodes, self.order, cumulative=self._use_influence())

    def _check_params(self, num_nodes: int) -> None:
        check_n_clusters(self.n_clusters, num_nodes)
        for name in ("alpha", "beta"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise GraphclInputError(f"{name} must be a finite number >= 0, got {v!r}")
        check_positive(self.temperature, "temperature")
        check_positive(self.lr, "lr")
        check_checkpoint_every(self.checkpoint_every)
        for name in ("epochs", "pretrain_epochs"):
            check_int(getattr(self, name), name, minimum=0)
        b = check_int(self.batch_size, "batch_size", minimum=2, allow_none=True)
        if not isinstance(self.distributed, bool):
            raise GraphclInputError(f"distributed must be True or False, got {self.distributed!r}")
        if self.distributed and b is not None:
            raise GraphclInputError("distributed=True trains full-batch: set batch_size=None")

    def _build_network(
        self, x: Tensor, device: torch.device, pretrain: bool = True
    ) -> Tuple[MLPEncoder, Optional[torch.nn.Module]]:
        """The (pretrained, unless ``pretrain=False``) encoder and decoder, in train mode."""
        ae = pretrain_autoencoder(
            x,
            self.hidden_channels,
            self.embedding_dim,
            epochs=self.pretrain_epochs if pretrain else 0,
            lr=self.pretrain_lr,
            batch_size=self.pretrain_batch_size,
            random_state=self.random_state,
            device=device,
            cache=self.cache if pretrain else False,
        )
        ae.train()
        if self._has_decoder:
            return ae.encoder, ae.decoder
        return ae.encoder, None

    # -- estimator API ---------------------------------------------------------------------
    def fit(
        self, data: Any, edge_index: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None, y: Any = None,
        resume: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> "SCGC":
        """Fit on a graph. ``data`` is a PyG ``Data`` or a feature tensor ``[N, d]`` given with
        ``edge_index``. Labels are never read (``y`` is accepted and ignored, as in scikit-learn).
        ``resume``: a training checkpoint (see ``checkpoint``) of this estimator's settings on
        this graph, to continue from; ``epochs`` may be larger than when it was written.
        """
        x, edge_index, edge_weight = unpack_graph(data, edge_index, edge_weight)
        n = x.size(0)
        self._check_params(n)
        state = None
        if resume is not None:
            if self.distributed:
                raise GraphclInputError("resume is not supported with distributed=True")
            state = self._load_training_state(resume, n, x.size(1))
        if self.distributed:
            from graphcl.distributed.env import current_context

            device = current_context().device
        else:
            device = resolve_device(self.device)
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(int(self.random_state))
        try:
            self._fit(x, edge_index, edge_weight, device, state)
        finally:
            torch.random.set_rng_state(gen_state)
        return self

    def _fit(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], device: torch.device,
             resume: Optional[Dict[str, Any]] = None) -> None:
        """Train; ``resume`` is a training checkpoint already checked against this run."""
        n = x.size(0)
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
        encoder, decoder = self._build_network(x, device, pretrain=resume is None)
        timings["pretrain_seconds"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        assign = StudentTAssignment(self.n_clusters, self.embedding_dim).to(device)
        z0 = None
        if resume is None:
            z0 = encode_in_chunks(encoder, x, self._chunk(n))
            assign.set_centers(kmeans_centers(z0, self.n_clusters, self.random_state, self.kmeans_n_init))
        modules = {"encoder": encoder, "assign": assign, "decoder": decoder}
        params = [p for m in modules.values() if m is not None for p in m.parameters()]
        optimizer = torch.optim.Adam(params, lr=self.lr)
        contrast = self._contrastive_loss()
        if self.batch_size is None:
            def run_epoch() -> Dict[str, float]:
                return self._step(x, w_index, w_value, encoder, decoder, assign, contrast, optimizer)
        else:
            run_epoch = self._minibatch_epochs(x, w_index, w_value, z0, encoder, decoder, assign, contrast, optimizer)
        del z0
        start, history = 0, []
        if resume is not None:
            start, history = self._restore_training_state(resume, modules, optimizer, run_epoch)

        def save(epoch: int, history: List[Dict[str, float]]) -> None:
            self._save_training_state(epoch, history, modules, optimizer, run_epoch, x)

        history = self._run_epochs(run_epoch, device, timings, t0, start=start, history=history, save=save)
        self._optimizer = optimizer  # its state goes into save(path)

        encoder.eval()
        with torch.no_grad():
            z = encode_in_chunks(encoder, x, self._chunk(n))
            q = assign(z)
        self._finish(encoder, decoder, assign, z, q, history, timings, x, device)

    def _run_epochs(self, run_epoch, device: torch.device, timings: Dict[str, Any], t0: float, *, start: int = 0,
                    history: Optional[List[Dict[str, float]]] = None, save=None, main: bool = True) -> List[Dict[str, float]]:
        """Run epochs ``start..epochs-1`` of ``run_epoch() -> loss terms``, reporting each to the
        progress bar / epoch log (on the ``main`` process) and checkpointing through ``save``;
        stop on a non-finite loss; record ``train_seconds`` (since ``t0``) and
        ``epoch_seconds`` in ``timings``."""
        history = list(history or [])
        epoch_seconds: List[float] = []
        last_saved: Optional[int] = None
        with EpochMonitor(self.epochs, type(self).__name__, self.progress and main, self.epoch_log if main else None,
                          start) as monitor:
            for epoch in range(start, self.epochs):
                te = time.perf_counter()
                terms = run_epoch()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                epoch_seconds.append(time.perf_counter() - te)
                if not all(np.isfinite(v) for v in terms.values()):
                    raise non_finite_error(epoch, terms, self.checkpoint, last_saved)
                history.append(terms)
                monitor.update(epoch, terms, epoch_seconds[-1])
                if save is not None and main and due(self, epoch, self.epochs - 1):
                    save(epoch, history)
                    last_saved = epoch
        timings["train_seconds"] = time.perf_counter() - t0
        timings["epoch_seconds"] = epoch_seconds
        return history

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

    # -- checkpoints -----------------------------------------------------------------------------
    def _save_training_state(self, epoch: int, history, modules, optimizer, run_epoch, x: Tensor) -> None:
        from graphcl.checkpoint import write_training_state

        extra = {"minibatch": run_epoch.state_dict()} if hasattr(run_epoch, "state_dict") else {}
        write_training_state(self, epoch, history, modules, optimizer,
                             {"num_nodes": x.size(0), "num_features": x.size(1)}, extra)

    def _load_training_state(self, path, num_nodes: int, num_features: int) -> Dict[str, Any]:
        from graphcl.checkpoint import read_training_state

        return read_training_state(self, path, {"num_nodes": num_nodes, "num_features": num_features}, self.epochs)

    def _restore_training_state(self, state, modules, optimizer, run_epoch) -> Tuple[int, List[Dict[str, float]]]:
        from graphcl.checkpoint import restore_training_state

        restore_training_state(state, modules, optimizer)
        if "minibatch" in state["extra"]:
            run_epoch.load_state_dict(state["extra"]["minibatch"])
        log.info("%s: resuming after epoch %d", type(self).__name__, state["epoch"])
        return state["epoch"] + 1, list(state["history"])

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Save the fitted estimator to ``path``: weights, centres, settings, results, the
        optimizer state of the last epoch, the epoch, the RNG state and the package version.
        :func:`graphcl.checkpoint.load_estimator` (or ``type(model).load``) reads it back on any
        device (the optimizer state as ``optimizer_state_``)."""
        from graphcl.checkpoint import final_training_state, save_checkpoint

        self._check_fitted()
        modules = {"encoder": self.encoder_, "assign": self.assignment_, "decoder": self.decoder_}
        save_checkpoint({
            "kind": "fitted", "class": type(self).__name__, "params": self.get_params(),
            "num_features": self.n_features_in_,
            "state": {k: m.state_dict() for k, m in modules.items() if m is not None},
            "attributes": {k: getattr(self, k) for k in ("labels_", "embeddings_", "soft_assignments_",
                                                         "cluster_centers_", "loss_history_", "timings_")},
            "training": final_training_state(self),
        }, path)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], device: Union[str, torch.device] = "cpu") -> "SCGC":
        """A fitted estimator saved by :meth:`save`, with its networks on ``device``."""
        from graphcl.checkpoint import load_estimator

        return load_estimator(path, device, expected=cls)

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device) -> "SCGC":
        est = cls(**payload["params"])
        dev = torch.device(device)
        ae = AutoEncoder(payload["num_features"], tuple(est.hidden_channels), est.embedding_dim)
        assign = StudentTAssignment(est.n_clusters, est.embedding_dim)
        decoder = ae.decoder if "decoder" in payload["state"] else None
        for key, module in (("encoder", ae.encoder), ("assign", assign), ("decoder", decoder)):
            if module is not None:
                module.load_state_dict(payload["state"][key])
        est.encoder_, est.assignment_ = ae.encoder.to(dev).eval(), assign.to(dev)
        est.decoder_ = None if decoder is None else decoder.to(dev)
        for key, value in payload["attributes"].items():
            setattr(est, key, value)
        est.n_features_in_, est.device_ = payload["num_features"], dev
        est.optimizer_state_ = payload["training"]["optimizer"]
        return est

    def _finish(self, encoder, decoder, assign, z: Tensor, q: Tensor, history, timings, x: Tensor, device) -> None:
        """Set the fitted attributes from the final (eval-mode) ``z [N, d]`` and ``q [N, K]``."""
        self.encoder_ = encoder
        self.decoder_ = decoder
        self.assignment_ = assign
        self.embeddings_ = z.cpu().numpy()
        self.soft_assignments_ = q.cpu().numpy()
        self.labels_ = q.argmax(dim=1).cpu().numpy()
        used = len(np.unique(self.labels_))
        if used < self.n_clusters:
            # DEC-style self-training can empty a cluster; the caller asked for n_clusters.
            warnings.warn(
                f"{type(self).__name__}: only {used} of n_clusters={self.n_clusters} clusters received nodes",
                RuntimeWarning,
                stacklevel=3,
            )
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
        gen = torch.Generator().manual_seed(int(self.random_state))
        state: Dict[str, Any] = {"stats": None}
        if z0 is not None:  # (a resumed run restores them)
            with torch.no_grad():
                state["stats"] = self._batch_statistics(z0, assign(z0))  # the whole graph's, at the initial state

        def run_epoch() -> Dict[str, float]:
            stats = state["stats"]
            totals: Dict[str, float] = {}
            new_stats = None
            for anchors in anchor_batches(n, self.batch_size, gen, device):
                nodes, anchor_pos, local_ei, weight = pairs.gather(anchors)
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
                new_stats = part if new_stats is None else {k: new_stats[k] + part[k] for k in part}
            state["stats"] = new_stats  # the whole graph's, accumulated over this epoch
            return totals

        def state_dict() -> Dict[str, Any]:
            return {"stats": state["stats"], "generator": gen.get_state()}

        def load_state_dict(saved: Dict[str, Any]) -> None:
            state["stats"] = {k: v.to(device) for k, v in saved["stats"].items()}
            gen.set_state(saved["generator"])

        run_epoch.state_dict, run_epoch.load_state_dict = state_dict, load_state_dict  # type: ignore[attr-defined]
        return run_epoch

    def _batch_statistics(self, z: Tensor, q: Tensor) -> Dict[str, Tensor]:
        """Sums over nodes that mini-batch training carries from one epoch to the next
        (``O(K)``): the cluster frequencies of the KL target."""
        return {"freq": q.sum(dim=0)}

    def _batch_contrast_term(self, contrast, z, anchor_pos, edge_index, edge_weight, q, stats, num_nodes) -> Tensor:
        return contrast(z, edge_index, edge_weight, anchors=anchor_pos)

    def _sharded_contrast_term(self, contrast, z, q, shard, group) -> Tensor:
        """This rank's share of the contrastive term (distributed training)."""
        from graphcl.distributed.losses import sharded_neighbor_contrast

        return sharded_neighbor_contrast(contrast, z, shard, group)

    def _contrastive_loss(self) -> torch.nn.Module:
        return NeighborContrastLoss(self.temperature, self.block_size)

    def _contrast_term(self, contrast, z: Tensor, w_index: Tensor, w_value: Tensor, q: Tensor) -> Tensor:
        return contrast(z, w_index, w_value)

    def _step(self, x, w_index, w_value, encoder, decoder, assign, contrast, optimizer) -> Dict[str, float]:
        z = encoder(x)
        q = assign(z)
        p = target_distribution(q.detach())
        kl = kl_clustering_loss(p, q)
        nc = self._contrast_term(contrast, z, w_index, w_value, q)
        return self._optimise(kl, nc, z, x, decoder, optimizer)

    def _optimise(self, kl: Tensor, nc: Tensor, z: Tensor, x: Tensor, decoder, optimizer) -> Dict[str, float]:
        """``β·KL + α·contrast`` (+ reconstruction of ``x`` from ``z`` for SCGC); one optimiser
        step; returns the loss terms as floats."""
        loss = self.beta * kl + self.alpha * nc
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

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise GraphclInputError(f"this {type(self).__name__} is not fitted yet: call fit() first")

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
