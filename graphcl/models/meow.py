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
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from graphcl.data.metapath_inputs import (
    FEATURELESS,
    MetaPathInputs,
    build_inputs,
    per_metapath,
    resolve_metapaths,
    resolve_target,
)
from graphcl.errors import GraphclInputError
from graphcl.losses.meow import estimate_pairs_seconds
from graphcl.memory import release_free_heap
from graphcl.models.base import (
    EmbeddingConvergence,
    GraphclEstimator,
    Patience,
    TrainingRun,
    graph_fingerprint,
    resolve_device,
)
from graphcl.nn.meow import MEOWNetwork
from graphcl.registry import register
from graphcl.validation import check_bool, check_choice, check_float, check_int, check_n_clusters, check_positive


class WarmCentroids:
    """The previous epoch's k-means centroids (``kmeans="warm"``), one ``[K_r, d]`` tensor per
    clustering, or ``None`` before the first epoch; checkpointed with the training state."""

    def __init__(self) -> None:
        self.values: Optional[list] = None

    def state_dict(self) -> Dict[str, Any]:
        return {"centroids": None if self.values is None else [c.cpu() for c in self.values]}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.values = state["centroids"]


@register("meow", family="heterogeneous", config=("meow.yaml", "meow"))
class MEOW(GraphclEstimator):
    r"""MEOW (Yu & Li, SDM 2023): heterogeneous graph contrastive learning with meta-path
    contexts and cluster-weighted negatives, on any PyG ``HeteroData``.

    Per epoch (full batch): encode the fine view :math:`z` and the coarse view :math:`z^c`
    (:class:`graphcl.nn.MEOWNetwork`); project, :math:`u = P(z^c)` (anchors) and :math:`v = P(z)`;
    cluster :math:`v` (detached) with torch k-means (inner product, seeded) once per entry of
    ``num_prototypes``; minimise

    .. math::
        \mathcal L = \mathcal L_{\text{InfoNCE}}^{w}(u, v) + \lambda\, \mathcal L_{\text{proto}}(u)

    (:class:`graphcl.losses.ClusterWeightedInfoNCE`, :class:`graphcl.losses.PrototypeLoss`).
    Training stops when the loss has not improved for ``patience`` epochs, but not before
    ``min_epochs``, nor before the loss has fallen by ``min_decrease`` (or at ``epochs``); the
    embedding is the **eval-mode** (dropout off) fused fine view of the weights at that last
    epoch — no label or validation metric selects anything.

    ``negatives="pairs"`` is MEOW's loss, whose denominator runs over all ``N`` targets
    (``O(N^2 d)`` per epoch); ``negatives="meta"`` replaces each k-means cluster's negatives by
    its mass-weighted mean (:class:`graphcl.losses.MetaNodeWeightedInfoNCE`, ``O(N K d)``), the
    linear-time variant for graphs where the exact loss cannot run. An exact run whose epoch is
    measured to take more than ``max_epoch_seconds`` is refused before training. The per-epoch
    k-means is the reference's (``kmeans="fresh"``: 5 random restarts, at most 20 iterations)
    or, with ``kmeans="warm"``, one restart continued from the previous epoch's centroids for at
    most ``WARM_ITERATIONS`` iterations (the first epoch runs one random restart for at most 20
    iterations): 10 times fewer Lloyd iterations per epoch, 5 times fewer in the first. :class:`MEOWLinear` (``meow_linear``) is MEOW with both:
    ``negatives="meta"`` and ``kmeans="warm"``.

    graphcl's defaults differ from the reference code in five named places (docs/meow.md):
    the warm-up of the stopping rule (``min_decrease=0.05``), the eval-mode embedding
    (``embedding="eval"``), PCL's distance-based concentration (``concentration="distance"``),
    seeded PathSim tie-breaking (``pathsim_ties="seeded"``) and, for a target without
    features, fixed label-free input features from its meta-path graphs (``featureless="svd"``)
    instead of a learnable embedding table. The per-epoch k-means is the
    reference's (plain-mean centroids, ``spherical_kmeans=False``): graphcl's spherical k-means
    was one more difference until the one-at-a-time ablation found it below the reference's on
    Macro-F1@20 on all four datasets measured (:class:`MEOWLinear`, whose k-means is warm-started,
    keeps spherical centroids). :class:`MEOWReference` (``meow_reference``) does what the
    reference does in all five.

    Args:
        n_clusters: Clusters for ``labels_`` (k-means on the embeddings); ``None``: no
            ``labels_``.
        target: Target node type (default ``data.target_node_type``).
        metapaths: ``{name: [edge types]}`` or a list of edge-type lists (default
            ``data.metapaths``). Each starts and ends at the target type.
        top_k: PathSim top-k per meta-path (an int, a list, or ``None`` to keep all).
        embedding_dim: Embedding size (``hidden_channels`` before: a deprecated alias).
        dropout: Dropout everywhere.
        temperature: InfoNCE temperature ``τ``.
        feat_mask: Fraction of the target's non-zero features masked in the masked views.
        adj_mask: Fraction of each meta-path graph's edges masked (float or per meta-path).
        num_prototypes: The k-means cluster counts ``K_r`` (each capped at ``N``).
        lambda_proto: Weight ``λ`` of the prototype loss.
        lr, weight_decay: Adam's.
        patience: Epochs without a lower loss before stopping.
        min_epochs: Patience may stop training only once this many epochs have run (``0``,
            the reference's rule).
        min_decrease: Patience may stop training only once the loss has fallen by this
            fraction of its first epoch's value (the warm-up; :class:`graphcl.models.base.Patience`).
            With a small learning rate the loss can sit on a noisy plateau for its first epochs
            (IMDB's ``lr=1e-4``: about 18), and a patience shorter than that plateau stops an
            untrained model; graphcl's default ``0.05`` rules that out on every graph. ``0`` is
            the reference's rule (then ``fit`` warns on a patience stop with the loss less than
            1% below its first value).
        stopping: ``"loss"`` (``patience`` on the loss, MEOW's) or ``"embedding"`` (every
            ``STOPPING_EVERY`` = 10 epochs, the eval-mode embedding of a fixed, seeded sample of
            ``STOPPING_SAMPLE`` = 4096 targets is compared with the previous check's, and training
            stops once its mean cosine distance is below ``stopping_tol``;
            :class:`graphcl.models.base.EmbeddingConvergence`; ``patience`` is then unused, the
            ``min_epochs`` / ``min_decrease`` warm-up still applies). :class:`MEOWLinear`'s
            default: its loss is too noisy for patience (docs/meow.md).
        stopping_tol: The embedding drift below which ``stopping="embedding"`` stops.
        negatives: ``"pairs"`` (MEOW: every target is a weighted negative) or ``"meta"``
            (meta-node negatives, linear in ``N``; see above; the prototype term then runs in
            row blocks too, :class:`graphcl.losses.PrototypeLoss` with a ``chunk_size``: no
            ``[N, K_r]`` logits).
        kmeans: ``"fresh"`` (the reference's per-epoch k-means) or ``"warm"`` (see above).
        embedding: ``"eval"`` (graphcl: the fused fine view of the final weights, dropout off)
            or ``"train"`` (the reference's: the fine view of the last epoch's forward pass,
            dropout on, before that epoch's optimizer step).
        concentration: The prototype temperatures' spread: ``"distance"`` (PCL's) or
            ``"similarity"`` (the reference's square root of the inner product;
            :func:`graphcl.losses.cluster_concentration`).
        spherical_kmeans: ``False`` (the reference's faiss default, and graphcl's): plain-mean
            centroids, normalised only for the prototype loss; ``True``: the per-epoch k-means
            normalises its centroids every iteration (spherical k-means, graphcl's default
            before the ablation of docs/meow.md).
        pathsim_ties: ``"seeded"`` (graphcl) or ``"numpy"`` (the reference's tie order at the
            PathSim top-k cut; :func:`graphcl.data.pathsim_topk`).
        recompute: Recompute the encoder's fine views and projection head in the
            backward pass instead of keeping their activations
            (:class:`graphcl.nn.MEOWNetwork`'s ``recompute``): the same training, bit for bit,
            with less peak memory, for about one more forward pass per epoch (docs/meow.md
            "Linear-time MEOW"); the C heap's freed pages are also returned to the system
            before each backward pass (:func:`graphcl.memory.release_free_heap`). ``"auto"``:
            on when the activations it saves would exceed :attr:`RECOMPUTE_AUTO_BYTES` (about
            ``60 · N · embedding_dim`` floats are kept without it). ``False`` here, ``"auto"``
            in :class:`MEOWLinear`; the choice made is ``network_.recompute``.
        featureless: What a node type without features gets: ``"svd"`` (graphcl's default: a
            featureless target gets the rank-64 approximation of its meta-path-smoothed one-hot
            features, :func:`graphcl.data.graph_features.metapath_svd_features`; featureless
            context types keep learnable tables), ``"table"`` (a learnable embedding table for
            every featureless type, the reference's) or ``"sketch"`` (fixed label-free features
            from the graph: a random projection of each node's neighbour sets per relation,
            :func:`graphcl.data.graph_features.neighbour_sketch_features`); docs/meow.md. Only a
            graph whose target has no features (AMiner, Freebase) sees a difference between
            ``"svd"`` and ``"table"``.
        clustering: How ``labels_`` are made from the final embedding: ``"kmeans"`` (k-means on
            it, 10 restarts) or ``"spectral"`` (k-means on the row-normalised ``K`` leading
            eigenvectors of the modularity matrix of its inner-product graph,
            :func:`graphcl.cluster.modularity_eigenvectors` with :math:`\gamma = 1`: spectral
            clustering, which discounts the direction every embedding shares). Training is
            the same either way; only ``labels_`` differ.
        max_epoch_seconds: Guard-rail for ``negatives="pairs"`` on 20 000 targets or more: the
            all-target loss's epoch is timed on a sample of rows before training and a run above
            this many seconds per epoch is refused with the estimate (``None``: no guard).
        epochs: Upper bound on epochs (``max_epochs`` before: a deprecated alias).
        random_state: Seed (network init, masks, k-means, dropout): an int, ``None`` or a NumPy
            ``Generator``, as :class:`graphcl.models.SCGC`.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        progress, epoch_log, checkpoint, checkpoint_every: As :class:`graphcl.models.SCGC`:
            a progress bar, a per-epoch log file, and training checkpoints that
            ``fit(data, resume=path)`` continues from exactly (the patience counter included).

    Attributes:
        embeddings_ (ndarray ``[N, embedding_dim]``), labels_ (ndarray ``[N]``), loss_history_ (list
        of dicts), n_epochs_ (int), timings_ (dict: ``prepare_seconds``, ``train_seconds``,
        ``epoch_seconds``), network_ (:class:`graphcl.nn.MEOWNetwork`).
    """

    deprecated_names = {"max_epochs": "epochs", "hidden_channels": "embedding_dim"}
    saved_attributes = ("embeddings_", "labels_", "loss_history_", "n_epochs_", "timings_")

    def __init__(
        self,
        n_clusters: Optional[int] = None,
        *,
        target: Optional[str] = None,
        metapaths: Any = None,
        top_k: Any = None,
        embedding_dim: int = 64,
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
        min_decrease: float = 0.05,
        stopping: str = "loss",
        stopping_tol: float = 0.01,
        negatives: str = "pairs",
        kmeans: str = "fresh",
        featureless: str = "svd",
        embedding: str = "eval",
        concentration: str = "distance",
        spherical_kmeans: bool = False,
        pathsim_ties: str = "seeded",
        recompute: Union[bool, str] = False,
        clustering: str = "kmeans",
        max_epoch_seconds: Optional[float] = 600.0,
        epochs: int = 10000,
        random_state: Any = 0,
        device: str = "cpu",
        progress: bool = False,
        epoch_log: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_every: int = 10,
        **deprecated: Any,
    ) -> None:
        self.n_clusters = n_clusters
        self.target = target
        self.metapaths = metapaths
        self.top_k = top_k
        self.embedding_dim = embedding_dim
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
        self.min_decrease = min_decrease
        self.stopping = stopping
        self.stopping_tol = stopping_tol
        self.negatives = negatives
        self.kmeans = kmeans
        self.featureless = featureless
        self.embedding = embedding
        self.concentration = concentration
        self.spherical_kmeans = spherical_kmeans
        self.pathsim_ties = pathsim_ties
        self.recompute = recompute
        self.clustering = clustering
        self.max_epoch_seconds = max_epoch_seconds
        self.epochs = epochs
        self.random_state = random_state
        self.device = device
        self.progress = progress
        self.epoch_log = epoch_log
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self._take_deprecated(deprecated)

    # -- pieces subclasses change ------------------------------------------------------------
    def _projection_channels(self) -> Optional[int]:
        return None

    #: The values of ``negatives`` this estimator accepts.
    NEGATIVES = ("pairs", "meta")
    #: Below this many targets an exact epoch takes seconds: no guard-rail measurement.
    GUARD_MIN_TARGETS = 20_000
    #: Lloyd iterations of a warm-started per-epoch k-means (``kmeans="warm"``).
    WARM_ITERATIONS = 1

    def _make_loss(self, inputs: MetaPathInputs) -> nn.Module:
        from graphcl.losses import ClusterWeightedInfoNCE, MetaNodeWeightedInfoNCE, PrototypeLoss

        self._prototype_counts = [min(int(k), inputs.num_target) for k in self.num_prototypes]
        # meta-node negatives are the linear-memory variant: the prototype term in row blocks too
        self._proto = PrototypeLoss(chunk_size="auto" if self.negatives == "meta" else None)
        if self.negatives == "meta":
            return MetaNodeWeightedInfoNCE(self.temperature)
        return ClusterWeightedInfoNCE(self.temperature)

    def _check_epoch_cost(self, inputs: MetaPathInputs, device: torch.device) -> None:
        """Refuse an all-target (``negatives="pairs"``) run whose loss would take more than
        ``max_epoch_seconds`` per epoch, as :func:`graphcl.losses.meow.estimate_pairs_seconds`
        measures it (a few anchor rows against all ``N`` samples, scaled to ``N`` rows)."""
        n = inputs.num_target
        if self.negatives != "pairs" or self.max_epoch_seconds is None or n < self.GUARD_MIN_TARGETS:
            return
        per_epoch = estimate_pairs_seconds(n, self._embedding_width(), len(self.num_prototypes), self.temperature,
                                           device)
        if per_epoch > self.max_epoch_seconds:
            raise GraphclInputError(
                f"{type(self).__name__}'s all-target negatives on {n} targets would take about {per_epoch:.0f} s per "
                f"epoch (the loss alone, measured on {device}), more than max_epoch_seconds={self.max_epoch_seconds:g}: "
                f"use negatives='meta' (meta-node negatives, linear in N) or raise max_epoch_seconds"
            )

    def _embedding_width(self) -> int:
        """Width of the projected views the loss reads."""
        return int(self._projection_channels() or self.embedding_dim)

    def _loss(self, loss_fn: nn.Module, net: MEOWNetwork, z: Tensor, zc: Tensor) -> Dict[str, Tensor]:
        from graphcl.cluster import torch_kmeans
        from graphcl.losses import cluster_concentration

        u, v = net.project(zc), net.project(z)
        vd = v.detach()
        labels, centroids, phis, raw = [], [], [], []
        previous = self._centroids.values if self.kmeans == "warm" else None
        metric = "ip" if self.spherical_kmeans else "ip_mean"  # ip_mean: faiss's default, spherical=False
        for r, k in enumerate(self._prototype_counts):
            # the reference's clustering (faiss: random init, 20 iterations), or a warm start
            init, max_iter = ("random", 20) if previous is None else (previous[r], self.WARM_ITERATIONS)
            # warm: one restart from the first epoch on (the next epochs continue its centroids)
            km = torch_kmeans(vd, k, metric=metric, init=init, max_iter=max_iter, n_init=1 if self.kmeans == "warm" else 5,
                              random_state=self.random_state_ * 1000 + r)
            labels.append(km.labels)
            raw.append(km.centroids)
            centroids.append(nn.functional.normalize(km.centroids, dim=1))  # as the reference, for the prototypes
            phis.append(cluster_concentration(vd, km.centroids, km.labels, self.temperature, smoothing=5.0,  # as MEOW
                                              kind=self.concentration))
        if self.kmeans == "warm":
            self._centroids.values = raw
        info = loss_fn(u, v, labels)
        proto = self._proto(u, centroids, labels, phis)
        return {"loss": info + self.lambda_proto * proto, "infonce": info, "proto": proto}

    # -- estimator API ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        self._check_common_params()
        if self.n_clusters is not None:
            check_n_clusters(self.n_clusters)
        check_positive(self.temperature, "temperature")
        check_positive(self.lr, "lr")
        check_float(self.weight_decay, "weight_decay", 0.0)
        check_float(self.dropout, "dropout", 0.0, 1.0, max_inclusive=False)
        check_float(self.lambda_proto, "lambda_proto", 0.0)
        check_float(self.feat_mask, "feat_mask", 0.0, 1.0, max_inclusive=False)
        check_int(self.embedding_dim, "embedding_dim")
        check_int(self.patience, "patience", allow_none=True)
        check_int(self.min_epochs, "min_epochs", minimum=0)
        check_float(self.min_decrease, "min_decrease", 0.0, 1.0, max_inclusive=False)
        check_float(self.max_epoch_seconds, "max_epoch_seconds", 0.0, min_inclusive=False, allow_none=True)
        check_choice(self.featureless, "featureless", FEATURELESS)
        check_choice(self.embedding, "embedding", ("eval", "train"))
        check_choice(self.concentration, "concentration", ("distance", "similarity"))
        check_choice(self.pathsim_ties, "pathsim_ties", ("seeded", "numpy"))
        check_bool(self.spherical_kmeans, "spherical_kmeans")
        if not (isinstance(self.recompute, (bool, np.bool_)) or self.recompute == "auto"):
            raise GraphclInputError(f"recompute must be True, False or 'auto', got {self.recompute!r}")
        check_choice(self.kmeans, "kmeans", ("fresh", "warm"))
        check_choice(self.clustering, "clustering", ("kmeans", "spectral"))
        check_choice(self.stopping, "stopping", ("loss", "embedding"))
        check_float(self.stopping_tol, "stopping_tol", 0.0, 1.0, min_inclusive=False)
        if self.clustering == "spectral" and self.n_clusters is not None and self.n_clusters > self.embedding_dim:
            raise GraphclInputError(f"clustering='spectral' needs n_clusters <= embedding_dim ({self.embedding_dim}): the "
                                    f"embedding's inner-product graph has rank at most {self.embedding_dim}")
        if self.negatives not in self.NEGATIVES:
            raise GraphclInputError(f"negatives must be one of {self.NEGATIVES} for {type(self).__name__}, "
                                    f"got {self.negatives!r}")
        if isinstance(self.num_prototypes, (str, bytes)) or not isinstance(self.num_prototypes, Sequence) \
                or len(self.num_prototypes) == 0:
            raise GraphclInputError(f"num_prototypes must be a non-empty list of ints, got {self.num_prototypes!r}")
        for i, k in enumerate(self.num_prototypes):
            check_int(k, f"num_prototypes[{i}]")

    def _inputs(self, data: Any, device: torch.device, seed: int) -> MetaPathInputs:
        """The meta-path inputs of ``data`` with this estimator's settings, on ``device``."""
        target = resolve_target(data, self.target, type(self).__name__)
        metapaths = resolve_metapaths(data, self.metapaths)
        m = len(metapaths)
        top_k = per_metapath(self.top_k, m, "top_k")
        for i, k in enumerate(top_k):
            check_int(k, f"top_k[{i}]", allow_none=True)
        adj_mask = per_metapath(self.adj_mask, m, "adj_mask")
        for i, rate in enumerate(adj_mask):
            check_float(rate, f"adj_mask[{i}]", 0.0, 1.0, max_inclusive=False)
        return build_inputs(data, target, metapaths, top_k, adj_mask, self.feat_mask, seed,
                            self.featureless, self.pathsim_ties).to(device)

    def fit(self, data: Any, y: Any = None, resume: Any = None) -> "MEOW":
        """Fit on a ``HeteroData``. Labels are never read (``y`` is ignored, as in scikit-learn).
        Every argument is checked before any work starts. ``resume``: a training checkpoint of
        this estimator's settings on this graph."""
        self._check_params()
        device = resolve_device(self.device)
        self._seeded(self._fit, data, device, resume)
        return self

    def _fit(self, data: Any, device: torch.device, resume: Any) -> None:
        t0 = time.perf_counter()
        inputs = self._inputs(data, device, self.random_state_)
        if self.n_clusters is not None:
            check_n_clusters(self.n_clusters, inputs.num_target)
        self._check_epoch_cost(inputs, device)
        graph = self._graph_facts(data, inputs, bool(self.checkpoint) or resume is not None)
        state = None if resume is None else self.read_checkpoint(resume, graph)
        prepare = time.perf_counter() - t0
        self._train(inputs, device, graph, state)
        self.timings_["prepare_seconds"] = prepare

    @staticmethod
    def _graph_facts(data: Any, inputs: MetaPathInputs, full: bool) -> Dict[str, Any]:
        """What a training checkpoint records of the graph (a resume must match it): the target,
        node counts, meta-paths and (``full``) a fingerprint of every feature and edge tensor."""
        facts: Dict[str, Any] = {"target": inputs.target, "num_nodes": dict(inputs.num_nodes),
                                 "metapaths": list(inputs.metapath_names)}
        if full:
            tensors = [data[t].get("x") for t in sorted(data.node_types)]
            tensors += [data[et].edge_index for et in sorted(data.edge_types)]
            facts["fingerprint"] = graph_fingerprint(tensors)
        return facts

    @staticmethod
    def _network_args(inputs: MetaPathInputs) -> Dict[str, Any]:
        return {"feature_dims": {t: (None if x is None else x.size(1)) for t, x in inputs.features.items()},
                "num_nodes": dict(inputs.num_nodes), "target": inputs.target,
                "metapath_contexts": [list(c) for c in inputs.metapath_contexts]}

    def _network(self, args: Dict[str, Any]) -> MEOWNetwork:
        return MEOWNetwork(args["feature_dims"], args["num_nodes"], args["target"], args["metapath_contexts"],
                           self.embedding_dim, self._projection_channels(), self.dropout,
                           recompute=self._recompute(int(args["num_nodes"][args["target"]])))

    #: ``recompute="auto"`` recomputes once the activations kept without it exceed this many bytes.
    RECOMPUTE_AUTO_BYTES = 1 << 30
    #: ``[N, embedding_dim]`` float tensors autograd keeps per step without ``recompute`` (56.6
    #: measured on the scaling bench's two meta-paths, docs/meow.md, before the row-block
    #: attention removed about eight of them), rounded up.
    SAVED_ACTIVATIONS = 60

    def _recompute(self, num_target: int) -> bool:
        """Whether the network recomputes its activations (``recompute``, ``"auto"`` resolved)."""
        if self.recompute != "auto":
            return bool(self.recompute)
        return self.SAVED_ACTIVATIONS * num_target * int(self.embedding_dim) * 4 > self.RECOMPUTE_AUTO_BYTES

    #: ``stopping="embedding"``: epochs between two checks, and the number of targets compared.
    STOPPING_EVERY: ClassVar[int] = 10
    STOPPING_SAMPLE: ClassVar[int] = 4096

    def _stopping_rule(self, net: MEOWNetwork, network_inputs: Dict[str, Any], n: int,
                       device: torch.device) -> Patience:
        """The stopping rule of ``stopping``: :class:`Patience` on the loss, or
        :class:`EmbeddingConvergence` on the eval-mode fused view of a seeded sample of targets."""
        if self.stopping == "loss":
            return Patience(self.patience, self.min_epochs, self.min_decrease)
        gen = torch.Generator().manual_seed(int(self.random_state_) + 7919)
        sample = torch.randperm(n, generator=gen)[: self.STOPPING_SAMPLE].to(device)

        def embed() -> Tensor:  # no dropout in eval mode: the training RNG stream is not touched
            was = net.training
            net.eval()
            with torch.no_grad():
                z, _ = net(**network_inputs)
            net.train(was)
            return z[sample]

        return EmbeddingConvergence(embed, self.STOPPING_EVERY, self.stopping_tol, self.min_epochs, self.min_decrease)

    def _train(self, inputs: MetaPathInputs, device: torch.device, graph: Dict[str, Any],
               state: Optional[Dict[str, Any]] = None) -> None:
        net = self._network(self._network_args(inputs)).to(device)
        if net.recompute:  # memory binds: what building the inputs freed leaves before training
            release_free_heap()
        loss_fn = self._make_loss(inputs).to(device)
        optimizer = torch.optim.Adam(list(net.parameters()) + list(loss_fn.parameters()), lr=self.lr,
                                     weight_decay=self.weight_decay)
        network_inputs = inputs.network_inputs()
        patience = self._stopping_rule(net, network_inputs, inputs.num_target, device)
        self._centroids = WarmCentroids()
        run = TrainingRun({"network": net, "loss": loss_fn}, optimizer, graph,
                          {"patience": patience, "centroids": self._centroids})
        start, history = (0, []) if state is None else run.restore(state)

        last_z: List[Optional[Tensor]] = [None]

        def step() -> Dict[str, float]:
            net.train()
            z, zc = net(**network_inputs)
            if self.embedding == "train":  # only then is the last forward's view the embedding
                last_z[0] = z.detach()
            terms = self._loss(loss_fn, net, z, zc)
            optimizer.zero_grad(set_to_none=True)
            if net.recompute:  # memory binds: the loss's freed blocks leave before the backward's peak
                release_free_heap()
            terms["loss"].backward()
            optimizer.step()
            return {k: float(v.detach()) for k, v in terms.items()}

        t_train = time.perf_counter()
        history, epoch_seconds = self.run_epochs(step, device, run=run, start=start, history=history, patience=patience)
        train_seconds = time.perf_counter() - t_train
        first = history[0]["loss"] if history else patience.best
        best = patience.best
        if (self.stopping == "loss" and self.patience is not None and len(history) < self.epochs
                and first - best < 0.01 * abs(first)):
            warnings.warn(f"{type(self).__name__}: patience={self.patience} stopped training at epoch {len(history)} "
                          f"with the loss less than 1% below its first value ({first:.4g} -> {best:.4g}): training "
                          f"likely ended on an early plateau, with an untrained model. Set min_decrease (graphcl's "
                          f"default: 0.05), min_epochs or a larger patience.", RuntimeWarning, stacklevel=5)
        if self.embedding == "train" and last_z[0] is not None:
            z = last_z[0]  # the reference's: the last epoch's forward, dropout on, before its optimizer step
        else:
            net.train(self.embedding == "train")
            with torch.no_grad():
                z, _ = net(**network_inputs)
        net.eval()
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
            points = self.embeddings_.astype(np.float64)
            if self.clustering == "spectral":
                from graphcl.cluster import spectral_clustering

                self.labels_ = spectral_clustering(torch.as_tensor(points), self.n_clusters, gamma=1.0, max_iter=1000,
                                                   tol=1e-8, random_state=self.random_state_).labels.numpy()
            else:
                from sklearn.cluster import KMeans

                km = KMeans(self.n_clusters, n_init=10, random_state=self.random_state_).fit(points)
                self.labels_ = km.labels_.astype(np.int64)
            self._warn_cluster_count(self.labels_)

    def transform(self, data: Any = None) -> np.ndarray:
        """Eval-mode embeddings ``[N, embedding_dim]`` of the fitted graph (``data=None``) or of
        another ``HeteroData`` with the same schema (its meta-path inputs are rebuilt with the
        fitted settings)."""
        self._check_fitted()
        if data is None and self.inputs_ is None:
            raise GraphclInputError("this estimator was loaded from a file: pass the HeteroData to transform(data)")
        inputs = self.inputs_ if data is None else self._inputs(data, next(self.network_.parameters()).device,
                                                                self.random_state_)
        self.network_.eval()
        with torch.no_grad():
            return self.network_(**inputs.network_inputs())[0].cpu().numpy()

    def _fitted_modules(self) -> Dict[str, Optional[torch.nn.Module]]:
        return {"network": self.network_}

    def _checkpoint_extra(self) -> Dict[str, Any]:
        return {"network_args": self.network_args_, "random_state_": self.random_state_}

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device: torch.device) -> "MEOW":
        """(``transform`` of a loaded estimator needs the graph: the meta-path inputs are not stored.)"""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # files written before the renaming
            est = cls(**payload["params"])
        net = est._network(payload["network_args"])
        net.load_state_dict(payload["state"]["network"])
        est.network_, est.network_args_, est.inputs_ = net.to(device).eval(), payload["network_args"], None
        est.random_state_ = payload.get("random_state_", est.random_state)
        est._restore_attributes(payload)
        return est

    def fit_predict(self, data: Any, y: Any = None) -> np.ndarray:
        """``fit(data).labels_`` (needs ``n_clusters``)."""
        if self.n_clusters is None:
            raise GraphclInputError("fit_predict needs n_clusters")
        return self.fit(data).labels_


@register("meow_reference", family="heterogeneous", config=("meow.yaml", "meow"))
class MEOWReference(MEOW):
    r"""MEOW as the reference code (jianxiangyu/MEOW, ``code_meow``) runs it, read again for each
    of the six places where graphcl's MEOW differs or differed:

    * patience counts from the first epoch (``min_decrease=0``), so a loss on an early plateau
      can end training untrained (``fit`` warns);
    * the embedding is ``self.z_pos`` of the last training forward (``embedding="train"``:
      dropout on, before that epoch's optimizer step; ``main.py`` never calls ``model.eval()``);
    * the prototype temperatures use the square root of the IP index's inner product
      (``concentration="similarity"``, ``module/cluster.py``);
    * faiss ``Clustering`` with its default ``spherical=False`` (``spherical_kmeans=False``:
      plain-mean centroids, normalised only for the prototype loss; graphcl's default too);
    * PathSim top-k ties in numpy's ``argsort`` order (``pathsim_ties="numpy"``,
      ``module/preprocess.py``; ``O(N^2)`` time once, for the benchmark datasets);
    * a node type without features reads one-hot rows (dense identity matrices) through a
      linear layer, i.e. a learnable embedding table (``featureless="table"``), the target
      included (on AMiner the reference's target read pre-trained 64-d vectors that the data
      do not include, so its row here uses tables for them too).

    Arguments as :class:`MEOW`.
    """

    def __init__(self, n_clusters: Optional[int] = None, *, min_decrease: float = 0.0, embedding: str = "train",
                 concentration: str = "similarity", spherical_kmeans: bool = False, pathsim_ties: str = "numpy",
                 featureless: str = "table", **kwargs: Any) -> None:
        super().__init__(n_clusters, min_decrease=min_decrease, embedding=embedding, concentration=concentration,
                         spherical_kmeans=spherical_kmeans, pathsim_ties=pathsim_ties, featureless=featureless,
                         **kwargs)


@register("meow_linear", family="heterogeneous", config=("meow.yaml", "meow"))
class MEOWLinear(MEOW):
    r"""graphcl's linear-time MEOW: meta-node negatives (``negatives="meta"``,
    :class:`graphcl.losses.MetaNodeWeightedInfoNCE`) and a warm-started per-epoch k-means
    (``kmeans="warm"``). An epoch costs ``O(nnz · d + N · K · d)``: no term over all target
    pairs (docs/meow.md "Linear-time MEOW"). It is the variant for graphs where memory binds,
    so it recomputes the encoder's activations in the backward pass once they would take more
    than :attr:`MEOW.RECOMPUTE_AUTO_BYTES` (1 GiB: about 70 000 targets at ``embedding_dim=64``;
    ``recompute="auto"``): the same values, bit for bit, with about a third of the saved
    activations, for roughly one more forward pass per epoch.

    Its warm-started k-means keeps **spherical** centroids (``spherical_kmeans=True``), unlike
    :class:`MEOW`'s default since the plain-mean ablation: that ablation measured MEOW's fresh
    per-epoch k-means; with the warm start, plain means measured far worse on ACM (docs/meow.md).

    It stops when its **embedding** has converged (``stopping="embedding"``: the eval-mode
    embedding of a fixed sample of targets moved by less than 1 % mean cosine distance over 10
    epochs), not by patience on the loss: the meta-node loss with a per-epoch k-means is noisy
    enough that patience ended most runs at a lucky early minimum while the embedding was still
    moving (docs/meow.md).
    Arguments as :class:`MEOW`.
    """

    def __init__(self, n_clusters: Optional[int] = None, *, negatives: str = "meta", kmeans: str = "warm",
                 recompute: Union[bool, str] = "auto", spherical_kmeans: bool = True, stopping: str = "embedding",
                 **kwargs: Any) -> None:
        super().__init__(n_clusters, negatives=negatives, kmeans=kmeans, recompute=recompute,
                         spherical_kmeans=spherical_kmeans, stopping=stopping, **kwargs)


@register("adameow", family="heterogeneous", config=("meow.yaml", "adameow"))
class AdaMEOW(MEOW):
    r"""AdaMEOW (Yu et al., TKDE 2024): MEOW with learned soft negative weights instead of
    clustering.

    The anchors are the fine view, :math:`u = P(z)`, the samples the coarse view,
    :math:`v = P(z^c)`, and each pair's negative weight comes from a small MLP on
    :math:`u_i + v_j` trained jointly (:class:`graphcl.losses.AdaptiveWeightInfoNCE`, chunked
    with recomputation: no ``N² × p`` tensor). No k-means during training. The reference
    trains for a fixed number of epochs (``patience=None``, ``epochs``); the embedding is
    again the eval-mode fine view at the last epoch.

    Args:
        projection_channels: Projection size ``p`` (64; the reference uses 16 on AMiner).
        weight_hidden: Hidden width of the weight MLP (16).
        **kwargs: As :class:`MEOW` (``num_prototypes`` and ``lambda_proto`` are unused).
    """

    def __init__(self, n_clusters: Optional[int] = None, *, projection_channels: Optional[int] = None,
                 weight_hidden: int = 16, patience: Optional[int] = None, epochs: int = 1200, **kwargs: Any) -> None:
        if "max_epochs" in kwargs:  # the deprecated name (MEOW warns), taking precedence over the default
            epochs = kwargs.pop("max_epochs")
            warnings.warn("AdaMEOW: the argument 'max_epochs' is deprecated and will be removed in the next release: "
                          "use 'epochs'", DeprecationWarning, stacklevel=2)
        super().__init__(n_clusters, patience=patience, epochs=epochs, **kwargs)
        self.projection_channels = projection_channels
        self.weight_hidden = weight_hidden

    #: AdaMEOW learns a weight for every pair: no meta-node form.
    NEGATIVES = ("pairs",)

    def _projection_channels(self) -> Optional[int]:
        return self.projection_channels

    def _make_loss(self, inputs: MetaPathInputs) -> nn.Module:
        from graphcl.losses import AdaptiveWeightInfoNCE

        p = self.projection_channels or self.embedding_dim
        return AdaptiveWeightInfoNCE(p, hidden=self.weight_hidden, temperature=self.temperature)

    def _loss(self, loss_fn: nn.Module, net: MEOWNetwork, z: Tensor, zc: Tensor) -> Dict[str, Tensor]:
        loss = loss_fn(net.project(z), net.project(zc))
        return {"loss": loss}
