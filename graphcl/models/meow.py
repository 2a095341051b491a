r"""MEOW and AdaMEOW: meta-path contrastive learning on heterogeneous graphs (estimators).

MEOW (Yu & Li, SDM 2023) contrasts a *coarse* view of the target nodes (their features
propagated over the mean of the meta-path graphs) with a *fine-grained* view (per meta-path,
the features enriched with the means of the nodes met along the meta-path — its contexts —
then propagated over that meta-path's graph; fused by attention). Negatives are weighted by
two k-means clusterings of the fine view, and a prototype loss pulls each coarse anchor toward
its fine-view cluster centre. AdaMEOW (Yu et al., TKDE 2024) swaps the roles of the views and
learns a soft weight for every negative pair instead of clustering.

Everything is sparse (meta-path graphs, contexts) or chunked (the ``N × N`` similarities of
the losses); nothing the size of ``N²`` is kept.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from sklearn.base import BaseEstimator, ClusterMixin
from torch import Tensor

from graphcl.checkpoint import (
    check_checkpoint_every,
    due,
    non_finite_error,
    read_training_state,
    restore_training_state,
    write_training_state,
)
from graphcl.errors import GraphclInputError
from graphcl.models.meow_views import mask_edges, mask_features, mean_operator, metapath_operator
from graphcl.models.scgc import resolve_device
from graphcl.nn.hetero import (
    MetaPathContextEncoder,
    NodeTypeProjection,
    ProjectionHead,
    SemanticAttention,
    StandardizedGCN,
)
from graphcl.ops.sparse_matrix import row_mean_operator, spmm
from graphcl.progress import EpochMonitor
from graphcl.validation import check_int

EdgeType = Tuple[str, str, str]


# ------------------------------------------------------------------------------------------
# Inputs: everything derived from the HeteroData once, before training
# ------------------------------------------------------------------------------------------


@dataclass
class MetaPathInputs:
    """The tensors one MEOW network reads (built once by :func:`build_inputs`).

    Attributes:
        target: Target node type.
        num_target: Number of target nodes ``N``.
        features: Node type -> features ``[N_t, d_t]`` or ``None`` (featureless), for the
            target and every context type.
        num_nodes: Node type -> node count.
        masked_target: ``(masked features or None, zero_rows or None)`` of the target.
        graphs: Per meta-path, the normalised top-k operator (``SparseOperator [N, N]``).
        masked_graphs: Per meta-path, the edge-masked operator.
        coarse_graph: Mean of ``graphs``.
        context_ops: Context key -> ``(node type, row-mean operator [N, N_t])``.
        metapath_contexts: Per meta-path, its context keys in path order.
        metapath_names: The meta-paths' names, in the order of ``graphs``.
    """

    target: str
    num_target: int
    features: Dict[str, Optional[Tensor]]
    num_nodes: Dict[str, int]
    masked_target: Tuple[Optional[Tensor], Optional[Tensor]]
    graphs: List[Tensor]
    masked_graphs: List[Tensor]
    coarse_graph: Tensor
    context_ops: Dict[str, Tuple[str, Tensor]]
    metapath_contexts: List[List[str]]
    metapath_names: List[str] = field(default_factory=list)

    def to(self, device: torch.device) -> "MetaPathInputs":
        mv = lambda t: None if t is None else t.to(device)  # noqa: E731
        return MetaPathInputs(
            self.target, self.num_target, {k: mv(v) for k, v in self.features.items()}, dict(self.num_nodes),
            (mv(self.masked_target[0]), mv(self.masked_target[1])), [g.to(device) for g in self.graphs],
            [g.to(device) for g in self.masked_graphs], self.coarse_graph.to(device),
            {k: (t, op.to(device)) for k, (t, op) in self.context_ops.items()},
            [list(c) for c in self.metapath_contexts], list(self.metapath_names),
        )


def _per_metapath(value: Union[float, int, None, Sequence], m: int, name: str) -> list:
    if value is None or isinstance(value, (int, float)):
        return [value] * m
    value = list(value)
    if len(value) != m:
        raise GraphclInputError(f"{name} has {len(value)} entries, one per meta-path ({m}) expected")
    return value


def _context_key(metapath: Sequence[EdgeType], position: int) -> str:
    return "/".join("-".join(et) for et in metapath[:position])


def _resolve_metapaths(data: Any, metapaths: Any) -> Dict[str, List[EdgeType]]:
    """Meta-paths as ``{name: [edge types]}`` (a list is named by its node types' initials)."""
    if metapaths is None:
        metapaths = getattr(data, "metapaths", None)
        if metapaths is None:
            raise GraphclInputError("no meta-paths: pass metapaths=[...] or set data.metapaths")
    if not isinstance(metapaths, dict):
        metapaths = {"".join([mp[0][0][0].upper()] + [et[2][0].upper() for et in mp]): mp for mp in metapaths}
    out: Dict[str, List[EdgeType]] = {}
    for name, mp in metapaths.items():
        mp = [tuple(et) for et in mp]
        if not mp or any(len(et) != 3 for et in mp):
            raise GraphclInputError(f"meta-path {name!r} must be a non-empty list of (src, rel, dst) edge types")
        for a, b in zip(mp[:-1], mp[1:]):
            if a[2] != b[0]:
                raise GraphclInputError(f"meta-path {name!r} is not a path: {a} is followed by {b}")
        if mp[0][0] != mp[-1][2]:
            raise GraphclInputError(f"meta-path {name!r} must start and end at the same node type")
        missing = [et for et in mp if et not in data.edge_types]
        if missing:
            raise GraphclInputError(f"meta-path {name!r} uses edge types the graph lacks: {missing}")
        out[str(name)] = mp
    return out


def _type_features(data: Any, node_type: str) -> Optional[Tensor]:
    store = data[node_type]
    x = store.get("x") if hasattr(store, "get") else getattr(store, "x", None)
    if x is None:
        return None
    from graphcl.validation import check_features

    return check_features(x.to(torch.float32), f"data[{node_type!r}].x")


def build_inputs(
    data: Any,
    target: str,
    metapaths: Dict[str, List[EdgeType]],
    top_k: Sequence[Optional[int]],
    adj_mask: Sequence[float],
    feat_mask: float,
    seed: int,
) -> MetaPathInputs:
    """Meta-path graphs (path counts, PathSim top-k), their operators and masked twins, the
    contexts, and the feature mask, drawn from ``seed``."""
    from graphcl.data.metapath import metapath_adjacency, metapath_contexts, pathsim_topk

    if target not in data.node_types:
        raise GraphclInputError(f"target node type {target!r} is not in the graph (types: {data.node_types})")
    gen = torch.Generator().manual_seed(int(seed))
    n = int(data[target].num_nodes)
    graphs, masked, ctx_ops, mp_ctx = [], [], {}, []
    for (name, mp), k, rate in zip(metapaths.items(), top_k, adj_mask):
        ei, counts = metapath_adjacency(data, mp)
        if k is not None:
            ei, counts = pathsim_topk(ei, counts, n, int(k), seed=seed)
        graphs.append(metapath_operator(ei, counts, n))
        m_ei, m_w = mask_edges(ei, n, rate, gen)
        masked.append(metapath_operator(m_ei, m_w, n))
        keys = []
        for pos, (c_ei, c_type) in enumerate(metapath_contexts(data, mp), start=1):
            key = _context_key(mp, pos)
            if key not in ctx_ops:
                ctx_ops[key] = (c_type, row_mean_operator(c_ei, n, int(data[c_type].num_nodes)))
            keys.append(key)
        mp_ctx.append(keys)
    types = [target] + sorted({t for t, _ in ctx_ops.values()} - {target})
    features = {t: _type_features(data, t) for t in types}
    num_nodes = {t: int(data[t].num_nodes) for t in types}
    masked_target = mask_features(features[target], n, feat_mask, gen)
    return MetaPathInputs(target, n, features, num_nodes, masked_target, graphs, masked,
                          mean_operator(graphs, n), ctx_ops, mp_ctx, list(metapaths))


# ------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------


class MEOWNetwork(nn.Module):
    r"""MEOW's encoder: type projections, per-meta-path context encoders, one shared
    standardised GCN, semantic attention over the ``2M`` fine views, and a shared projection head.

    .. math::
        z = \mathrm{Att}\big(\{\mathrm{norm}\,g(F_m, \hat A_m),\ \mathrm{norm}\,g(\tilde F_m, \tilde A_m)\}_{m=1}^{M}\big),
        \qquad z^c = g(H, \bar A)

    with :math:`g` = :class:`~graphcl.nn.hetero.StandardizedGCN`, :math:`F_m` the context
    encodings (:class:`~graphcl.nn.hetero.MetaPathContextEncoder`), tildes the static
    feature- and edge-masked views and :math:`\bar A` the mean meta-path operator.

    Args:
        in_channels: Node type -> feature size or ``None`` (featureless: embedding table).
        num_nodes: Node type -> node count.
        target: Target node type.
        metapath_contexts: Per meta-path, its context keys.
        hidden_channels: Embedding size (64 in MEOW).
        projection_channels: Projection head output size (64; AdaMEOW uses 16 on AMiner).
        dropout: Dropout of projections, context terms and GCN layers.
        attention_dropout: Dropout on the attention vector.

    Shapes:
        ``forward(inputs)`` -> ``(z [N, h], z_coarse [N, h])``; :meth:`project` maps
        ``[N, h] -> [N, projection_channels]`` (unit rows).
    """

    def __init__(
        self,
        in_channels: Dict[str, Optional[int]],
        num_nodes: Dict[str, int],
        target: str,
        metapath_contexts: Sequence[Sequence[str]],
        hidden_channels: int = 64,
        projection_channels: Optional[int] = None,
        dropout: float = 0.2,
        attention_dropout: Optional[float] = None,
    ) -> None:
        super().__init__()
        self.target = target
        self.types = list(in_channels)
        self.projections = nn.ModuleDict(
            {t: NodeTypeProjection(in_channels[t], hidden_channels, num_nodes[t], dropout) for t in self.types}
        )
        self.context_encoders = nn.ModuleList(
            MetaPathContextEncoder(len(keys), hidden_channels, dropout) if keys else nn.Identity()
            for keys in metapath_contexts
        )
        self.metapath_contexts = [list(k) for k in metapath_contexts]
        self.gcn = StandardizedGCN(hidden_channels, dropout)
        self.attention = SemanticAttention(hidden_channels, dropout if attention_dropout is None else attention_dropout)
        self.head = ProjectionHead(hidden_channels, projection_channels)

    def reset_parameters(self) -> None:
        for module in (*self.projections.values(), *self.context_encoders, self.gcn, self.attention, self.head):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def _fine(self, h: Tensor, m: int, means: Dict[str, Tensor]) -> Tensor:
        keys = self.metapath_contexts[m]
        if not keys:
            return h
        return self.context_encoders[m](h, [means[k] for k in keys])

    def forward(self, inputs: MetaPathInputs) -> Tuple[Tensor, Tensor]:
        t = self.target
        h = self.projections[t](inputs.features[t])
        masked_x, zero_rows = inputs.masked_target
        h_masked = self.projections[t](masked_x, zero_rows=zero_rows)
        proj = {ty: self.projections[ty](inputs.features[ty]) for ty in self.types if ty != t}
        proj[t] = h
        # one context mean per distinct prefix, shared by meta-paths and by both views
        means = {key: spmm(op, proj[ty]) for key, (ty, op) in inputs.context_ops.items()}
        views = []
        for m, (adj, adj_masked) in enumerate(zip(inputs.graphs, inputs.masked_graphs)):
            views.append(nn.functional.normalize(self.gcn(self._fine(h, m, means), adj), dim=1))
            views.append(nn.functional.normalize(self.gcn(self._fine(h_masked, m, means), adj_masked), dim=1))
        z, self.view_weights_ = self.attention(torch.stack(views))
        return z, self.gcn(h, inputs.coarse_graph)

    def project(self, z: Tensor) -> Tensor:
        return self.head(z)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(target={self.target!r}, types={self.types}, "
                f"metapaths={len(self.metapath_contexts)}, hidden={self.gcn.channels})")


# ------------------------------------------------------------------------------------------
# Estimators
# ------------------------------------------------------------------------------------------


class MEOW(ClusterMixin, BaseEstimator):
    r"""MEOW (Yu & Li, SDM 2023): heterogeneous graph contrastive learning with meta-path
    contexts and cluster-weighted negatives, on any PyG ``HeteroData``.

    Per epoch (full batch): encode the fine view :math:`z` and the coarse view :math:`z^c`
    (:class:`MEOWNetwork`); project, :math:`u = P(z^c)` (anchors) and :math:`v = P(z)`;
    cluster :math:`v` (detached) with torch k-means (inner product, seeded) once per entry of
    ``num_prototypes``; minimise

    .. math::
        \mathcal L = \mathcal L_{\text{InfoNCE}}^{w}(u, v) + \lambda\, \mathcal L_{\text{proto}}(u)

    (:class:`graphcl.losses.ClusterWeightedInfoNCE`, :class:`graphcl.losses.PrototypeLoss`).
    Training stops when the loss has not improved for ``patience`` epochs, but not before
    ``min_epochs`` (or at ``max_epochs``); the embedding is the **eval-mode** (dropout off)
    fused fine view of the weights at that last epoch — no label or validation metric selects anything.

    Args:
        n_clusters: Clusters for ``labels_`` (k-means on the embeddings); ``None``: no
            ``labels_``.
        target: Target node type (default ``data.target_node_type``).
        metapaths: ``{name: [edge types]}`` or a list of edge-type lists (default
            ``data.metapaths``). Each starts and ends at the target type.
        top_k: PathSim top-k per meta-path (an int, a list, or ``None`` to keep all).
        hidden_channels: Embedding size.
        dropout: Dropout everywhere.
        temperature: InfoNCE temperature ``τ``.
        feat_mask: Fraction of the target's non-zero features masked in the masked views.
        adj_mask: Fraction of each meta-path graph's edges masked (float or per meta-path).
        num_prototypes: The k-means cluster counts ``K_r`` (each capped at ``N``).
        lambda_proto: Weight ``λ`` of the prototype loss.
        lr, weight_decay: Adam's.
        patience: Epochs without a lower loss before stopping.
        min_epochs: Patience may stop training only once this many epochs have run. ``0``
            (default) is the reference's rule. With a small learning rate the loss can sit on
            a noisy plateau for the first epochs (IMDB's ``lr=1e-4``: about 18); a patience
            shorter than that plateau stops an untrained model, and ``fit`` then warns (a
            patience stop with the loss less than 1% below its first value).
        max_epochs: Upper bound on epochs.
        random_state: Seed (network init, masks, k-means, dropout).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        progress, epoch_log, checkpoint, checkpoint_every: As :class:`graphcl.models.SCGC`:
            a progress bar, a per-epoch log file, and training checkpoints that
            ``fit(data, resume=path)`` continues from exactly (the patience counter included).

    Attributes:
        embeddings_ (ndarray ``[N, hidden]``), labels_ (ndarray ``[N]``), loss_history_ (list
        of dicts), n_epochs_ (int), timings_ (dict: ``prepare_seconds``, ``train_seconds``,
        ``epoch_seconds``), network_ (:class:`MEOWNetwork`).
    """

    def __init__(
        self,
        n_clusters: Optional[int] = None,
        *,
        target: Optional[str] = None,
        metapaths: Any = None,
        top_k: Any = None,
        hidden_channels: int = 64,
        dropout: float = 0.2,
        temperature: float = 0.5,
        feat_mask: float = 0.3,
        adj_mask: Any = 0.2,
        num_prototypes: Sequence[int] = (100, 300),
        lambda_proto: float = 1.0,
        lr: float = 7e-4,
        weight_decay: float = 0.0,
        patience: Optional[int] = 30,
        min_epochs: int = 0,
        max_epochs: int = 10000,
        random_state: int = 0,
        device: str = "cpu",
        progress: bool = False,
        epoch_log: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_every: int = 10,
    ) -> None:
        self.n_clusters = n_clusters
        self.target = target
        self.metapaths = metapaths
        self.top_k = top_k
        self.hidden_channels = hidden_channels
        self.dropout = dropout
        self.temperature = temperature
        self.feat_mask = feat_mask
        self.adj_mask = adj_mask
        self.num_prototypes = num_prototypes
        self.lambda_proto = lambda_proto
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.random_state = random_state
        self.device = device
        self.progress = progress
        self.epoch_log = epoch_log
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    # -- pieces subclasses change ------------------------------------------------------------
    def _projection_channels(self) -> Optional[int]:
        return None

    def _make_loss(self, inputs: MetaPathInputs) -> nn.Module:
        from graphcl.losses import ClusterWeightedInfoNCE, PrototypeLoss

        self._prototype_counts = [min(int(k), inputs.num_target) for k in self.num_prototypes]
        self._proto = PrototypeLoss()
        return ClusterWeightedInfoNCE(self.temperature)

    def _loss(self, loss_fn: nn.Module, net: MEOWNetwork, z: Tensor, zc: Tensor) -> Dict[str, Tensor]:
        from graphcl.cluster import torch_kmeans
        from graphcl.losses import cluster_concentration

        u, v = net.project(zc), net.project(z)
        vd = v.detach()
        labels, centroids, phis = [], [], []
        for r, k in enumerate(self._prototype_counts):
            km = torch_kmeans(vd, k, metric="ip", init="random", random_state=int(self.random_state) * 1000 + r)  # faiss: random init
            labels.append(km.labels)
            centroids.append(km.centroids)
            phis.append(cluster_concentration(vd, km.centroids, km.labels, self.temperature, smoothing=5.0))  # log(n_k + 5), as MEOW
        info = loss_fn(u, v, labels)
        proto = self._proto(u, centroids, labels, phis)
        return {"loss": info + self.lambda_proto * proto, "infonce": info, "proto": proto}

    def _patience_stops(self, wait: int, epochs_run: int) -> bool:
        return self.patience is not None and wait >= self.patience and epochs_run >= self.min_epochs

    # -- estimator API ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        from graphcl.validation import check_positive

        check_positive(self.temperature, "temperature")
        check_positive(self.lr, "lr")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise GraphclInputError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        for name in ("max_epochs", "hidden_channels"):
            check_int(getattr(self, name), name)
        check_int(self.patience, "patience", allow_none=True)
        check_int(self.min_epochs, "min_epochs", minimum=0)
        check_checkpoint_every(self.checkpoint_every)

    def _inputs(self, data: Any, device: torch.device) -> MetaPathInputs:
        """The meta-path inputs of ``data`` with this estimator's settings, on ``device``."""
        if not hasattr(data, "node_types") or not hasattr(data, "edge_types"):
            raise GraphclInputError(f"{type(self).__name__} needs a torch_geometric HeteroData, got {type(data).__name__}")
        target = self.target or getattr(data, "target_node_type", None)
        if target is None:
            raise GraphclInputError("no target node type: pass target=... or set data.target_node_type")
        if target not in data.node_types:
            raise GraphclInputError(f"target node type {target!r} is not in the graph (types: {data.node_types})")
        metapaths = _resolve_metapaths(data, self.metapaths)
        m = len(metapaths)
        return build_inputs(data, target, metapaths, _per_metapath(self.top_k, m, "top_k"),
                            _per_metapath(self.adj_mask, m, "adj_mask"), self.feat_mask, self.random_state).to(device)

    def fit(self, data: Any, y: Any = None, resume: Any = None) -> "MEOW":
        """Fit on a ``HeteroData``. Labels are never read (``y`` is ignored, as in scikit-learn).
        ``resume``: a training checkpoint of this estimator's settings on this graph."""
        self._check_params()
        device = resolve_device(self.device)
        gen_state = torch.random.get_rng_state()
        torch.manual_seed(int(self.random_state))
        try:
            t0 = time.perf_counter()
            inputs = self._inputs(data, device)
            if self.n_clusters is not None:
                from graphcl.validation import check_n_clusters

                check_n_clusters(self.n_clusters, inputs.num_target)
            state = None
            if resume is not None:
                state = read_training_state(self, resume, self._graph_facts(inputs), self.max_epochs)
            prepare = time.perf_counter() - t0
            self._train(inputs, device, state)
            self.timings_["prepare_seconds"] = prepare
        finally:
            torch.random.set_rng_state(gen_state)
        return self

    @staticmethod
    def _graph_facts(inputs: MetaPathInputs) -> Dict[str, Any]:
        """What a training checkpoint records of the graph (a resume must match it)."""
        return {"target": inputs.target, "num_nodes": dict(inputs.num_nodes),
                "metapaths": list(inputs.metapath_names)}

    @staticmethod
    def _network_args(inputs: MetaPathInputs) -> Dict[str, Any]:
        return {"feature_dims": {t: (None if x is None else x.size(1)) for t, x in inputs.features.items()},
                "num_nodes": dict(inputs.num_nodes), "target": inputs.target,
                "metapath_contexts": [list(c) for c in inputs.metapath_contexts]}

    def _network(self, args: Dict[str, Any]) -> MEOWNetwork:
        return MEOWNetwork(args["feature_dims"], args["num_nodes"], args["target"], args["metapath_contexts"],
                           self.hidden_channels, self._projection_channels(), self.dropout)

    def _train(self, inputs: MetaPathInputs, device: torch.device, resume: Optional[Dict[str, Any]] = None) -> None:
        net = self._network(self._network_args(inputs)).to(device)
        loss_fn = self._make_loss(inputs).to(device)
        optimizer = torch.optim.Adam(list(net.parameters()) + list(loss_fn.parameters()), lr=self.lr,
                                     weight_decay=self.weight_decay)
        modules = {"network": net, "loss": loss_fn}
        history: List[Dict[str, float]] = []
        epoch_seconds: List[float] = []
        best, wait, start = float("inf"), 0, 0
        if resume is not None:
            restore_training_state(resume, modules, optimizer)
            history, start = list(resume["history"]), resume["epoch"] + 1
            best, wait = resume["extra"]["best"], resume["extra"]["wait"]
        t_train = time.perf_counter()
        last_saved: Optional[int] = None
        with EpochMonitor(self.max_epochs, type(self).__name__, self.progress, self.epoch_log, start) as monitor:
            for epoch in range(start, self.max_epochs):
                if self._patience_stops(wait, epoch):
                    break  # (a resumed run that had already stopped)
                te = time.perf_counter()
                net.train()
                z, zc = net(inputs)
                terms = self._loss(loss_fn, net, z, zc)
                optimizer.zero_grad(set_to_none=True)
                terms["loss"].backward()
                optimizer.step()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                epoch_seconds.append(time.perf_counter() - te)
                values = {k: float(v.detach()) for k, v in terms.items()}
                if not np.isfinite(values["loss"]):
                    raise non_finite_error(epoch, values, self.checkpoint, last_saved)
                history.append(values)
                monitor.update(epoch, values, epoch_seconds[-1])
                if values["loss"] < best:
                    best, wait = values["loss"], 0
                else:
                    wait += 1
                stop = self._patience_stops(wait, epoch + 1)
                if due(self, epoch, epoch if stop else self.max_epochs - 1):
                    write_training_state(self, epoch, history, modules, optimizer, self._graph_facts(inputs),
                                         {"best": best, "wait": wait})
                    last_saved = epoch
                if stop:
                    break
        train_seconds = time.perf_counter() - t_train
        first = history[0]["loss"] if history else best
        if self.patience is not None and len(history) < self.max_epochs and first - best < 0.01 * abs(first):
            warnings.warn(f"{type(self).__name__}: patience={self.patience} stopped training at epoch {len(history)} "
                          f"with the loss less than 1% below its first value ({first:.4g} -> {best:.4g}): training "
                          f"likely ended on an early plateau, with an untrained model. Set min_epochs (e.g. "
                          f"{3 * self.patience}) or a larger patience.", RuntimeWarning, stacklevel=3)
        net.eval()
        with torch.no_grad():
            z, _ = net(inputs)
        self.network_ = net
        self._optimizer = optimizer  # its state goes into save(path)
        self.network_args_ = self._network_args(inputs)
        self.loss_module_ = loss_fn
        self.inputs_ = inputs
        self.embeddings_ = z.cpu().numpy()
        self.loss_history_ = history
        self.n_epochs_ = len(history)
        self.timings_ = {"train_seconds": train_seconds, "epoch_seconds": epoch_seconds}
        if self.n_clusters is not None:
            from sklearn.cluster import KMeans

            km = KMeans(self.n_clusters, n_init=10, random_state=int(self.random_state)).fit(self.embeddings_.astype(np.float64))
            self.labels_ = km.labels_.astype(np.int64)
            used = len(np.unique(self.labels_))
            if used < self.n_clusters:
                warnings.warn(f"{type(self).__name__}: only {used} of n_clusters={self.n_clusters} clusters received nodes",
                              RuntimeWarning, stacklevel=3)

    def transform(self, data: Any = None) -> np.ndarray:
        """Eval-mode embeddings ``[N, hidden]`` of the fitted graph (``data=None``) or of another
        ``HeteroData`` with the same schema (its meta-path inputs are rebuilt with the fitted
        settings)."""
        if not hasattr(self, "network_"):
            raise GraphclInputError(f"this {type(self).__name__} is not fitted yet: call fit() first")
        if data is None and self.inputs_ is None:
            raise GraphclInputError("this estimator was loaded from a file: pass the HeteroData to transform(data)")
        inputs = self.inputs_ if data is None else self._inputs(data, next(self.network_.parameters()).device)
        self.network_.eval()
        with torch.no_grad():
            return self.network_(inputs)[0].cpu().numpy()

    def save(self, path: Any) -> None:
        """Save the fitted estimator (network weights, settings, embeddings, labels, the optimizer
        state of the last epoch, the epoch, the RNG state) to
        ``path``; ``type(model).load(path, device)`` reads it back on any device."""
        from graphcl.checkpoint import final_training_state, save_checkpoint

        if not hasattr(self, "network_"):
            raise GraphclInputError(f"this {type(self).__name__} is not fitted yet: call fit() first")
        attrs = {k: getattr(self, k) for k in ("embeddings_", "labels_", "loss_history_", "n_epochs_", "timings_")
                 if hasattr(self, k)}
        save_checkpoint({"kind": "fitted", "class": type(self).__name__, "params": self.get_params(),
                         "network_args": self.network_args_, "state": {"network": self.network_.state_dict()},
                         "attributes": attrs, "training": final_training_state(self)}, path)

    @classmethod
    def load(cls, path: Any, device: Any = "cpu") -> "MEOW":
        """A fitted estimator saved by :meth:`save`, on ``device`` (``transform`` then needs the
        graph: the meta-path inputs are not stored)."""
        from graphcl.checkpoint import load_estimator

        return load_estimator(path, device, expected=cls)

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device: Any) -> "MEOW":
        est = cls(**payload["params"])
        net = est._network(payload["network_args"])
        net.load_state_dict(payload["state"]["network"])
        est.network_, est.network_args_, est.inputs_ = net.to(torch.device(device)).eval(), payload["network_args"], None
        for key, value in payload["attributes"].items():
            setattr(est, key, value)
        est.optimizer_state_ = payload["training"]["optimizer"]
        return est

    def fit_predict(self, data: Any, y: Any = None) -> np.ndarray:
        """``fit(data).labels_`` (needs ``n_clusters``)."""
        if self.n_clusters is None:
            raise GraphclInputError("fit_predict needs n_clusters")
        return self.fit(data).labels_


class AdaMEOW(MEOW):
    r"""AdaMEOW (Yu et al., TKDE 2024): MEOW with learned soft negative weights instead of
    clustering.

    The anchors are the fine view, :math:`u = P(z)`, the samples the coarse view,
    :math:`v = P(z^c)`, and each pair's negative weight comes from a small MLP on
    :math:`u_i + v_j` trained jointly (:class:`graphcl.losses.AdaptiveWeightInfoNCE`, chunked
    with recomputation: no ``N² × p`` tensor). No k-means during training. The reference
    trains for a fixed number of epochs (``patience=None``, ``max_epochs``); the embedding is
    again the eval-mode fine view at the last epoch.

    Args:
        projection_channels: Projection size ``p`` (64; the reference uses 16 on AMiner).
        weight_hidden: Hidden width of the weight MLP (16).
        **kwargs: As :class:`MEOW` (``num_prototypes`` and ``lambda_proto`` are unused).
    """

    def __init__(self, n_clusters: Optional[int] = None, *, projection_channels: Optional[int] = None,
                 weight_hidden: int = 16, patience: Optional[int] = None, max_epochs: int = 1200, **kwargs: Any) -> None:
        super().__init__(n_clusters, patience=patience, max_epochs=max_epochs, **kwargs)
        self.projection_channels = projection_channels
        self.weight_hidden = weight_hidden

    @classmethod
    def _get_param_names(cls):
        return sorted(set(MEOW._get_param_names()) | {"projection_channels", "weight_hidden"})

    def _projection_channels(self) -> Optional[int]:
        return self.projection_channels

    def _make_loss(self, inputs: MetaPathInputs) -> nn.Module:
        from graphcl.losses import AdaptiveWeightInfoNCE

        p = self.projection_channels or self.hidden_channels
        return AdaptiveWeightInfoNCE(p, hidden=self.weight_hidden, temperature=self.temperature)

    def _loss(self, loss_fn: nn.Module, net: MEOWNetwork, z: Tensor, zc: Tensor) -> Dict[str, Tensor]:
        loss = loss_fn(net.project(z), net.project(zc))
        return {"loss": loss}
