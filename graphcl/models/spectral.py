r"""Smoothed spectral clustering: no training, linear in the graph (after S2CAG, Lin et al., KDD 2024)."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.cluster.spectral import spectral_clustering
from graphcl.errors import GraphclInputError
from graphcl.models.base import GraphclEstimator, resolve_device, seed_from
from graphcl.models.scgc import unpack_graph
from graphcl.ops import geometric_smoothing
from graphcl.progress import EpochMonitor
from graphcl.registry import register
from graphcl.validation import check_choice, check_float, check_int, check_n_clusters

__all__ = ["SmoothedSpectral", "SmoothedSpectralMetaPath"]


@register("spectral", family="homogeneous", config=("spectral.yaml", "spectral"))
class SmoothedSpectral(GraphclEstimator):
    r"""Spectral clustering of graph-smoothed features by modularity: a label-free baseline
    with nothing to train, linear in the number of nodes and edges.

    .. math::
        \tilde X = \mathrm{rownorm}(X), \quad
        Z = \mathrm{rownorm}\Big(\sum_{t=0}^{T}\alpha^t \hat A^t \tilde X\Big), \quad
        B = ZZ^\top - \gamma\,\frac{dd^\top}{\mathbf 1^\top d},\ d = ZZ^\top\mathbf 1,

    then the ``K`` leading eigenvectors ``U [N, K]`` of ``B`` (the spectral relaxation of
    maximising the modularity of the cosine-similarity graph of ``Z``), their rows
    L2-normalised, and k-means on them. :math:`\hat A = D^{-1/2}(A+I)D^{-1/2}`; ``rownorm``
    divides each row by its L2 norm (a zero row stays zero). ``B`` is never formed
    (:func:`graphcl.cluster.spectral.modularity_eigenvectors`: block subspace iteration, each
    product ``O(N d K)``); the smoothing costs ``O(T · nnz · d)``
    (:func:`graphcl.ops.geometric_smoothing`). Memory ``O(N d + nnz)``: ``Z`` is dense.

    The idea, smoothing then a spectral embedding of the feature similarities corrected as
    modularity, is S2CAG's (Lin et al., "Spectral Subspace Clustering for Attributed Graphs",
    KDD 2024); graphcl's version differs (L2 row normalisation instead of S2CAG's TF-IDF and
    feature-degree scaling, Newman's resolution :math:`\gamma = 1`, k-means instead of their
    rounding, one setting for every graph) and is not a reproduction of their numbers.

    Args:
        n_clusters: ``K``; also the number of eigenvectors (at most the feature count).
        alpha: Weight kept per hop, :math:`\alpha \in [0, 1)` (0.9).
        hops: Smoothing order :math:`T \ge 0` (10).
        gamma: Modularity resolution :math:`\gamma \in [0, 1]` (1: Newman's modularity matrix;
            0: plain spectral embedding of :math:`ZZ^\top`).
        tol: Relative residual at which the subspace iteration stops.
        kmeans_n_init: k-means restarts on the embedding.
        epochs: Most subspace iterations (each reported as an epoch: loss
            :math:`-\mathrm{trace}(Q^\top B Q)/K`, which falls as the subspace converges).
        random_state: Seed of the starting block and of k-means.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        progress: Show a progress bar over the iterations.
        epoch_log: Per-iteration log file.
        checkpoint: Not supported (nothing is trained): must be ``None``.
        checkpoint_every: Unused (kept for the common interface).

    Attributes:
        labels_ (np.ndarray): ``[N]`` clusters.
        embeddings_ (np.ndarray): ``[N, K]`` the row-normalised eigenvectors.
        eigenvalues_ (np.ndarray): ``[K]`` their Ritz values, decreasing.
        n_iter_ (int): Subspace iterations run; ``residual_`` (float) the last relative residual.
        cluster_centers_ (np.ndarray): ``[K, K]`` k-means centres in the embedding.
        loss_history_ (list): ``{"loss": -trace/K, "residual": r}`` per iteration.
        timings_ (dict): ``prepare_seconds`` (smoothing), ``pretrain_seconds`` (0),
            ``train_seconds`` (eigenvectors and k-means), ``epoch_seconds`` (per iteration).
    """

    saved_attributes = ("labels_", "embeddings_", "eigenvalues_", "n_iter_", "residual_", "cluster_centers_",
                        "loss_history_", "timings_")

    def __init__(
        self,
        n_clusters: Optional[int] = None,
        alpha: float = 0.9,
        hops: int = 10,
        gamma: float = 1.0,
        tol: float = 1e-5,
        kmeans_n_init: int = 10,
        epochs: int = 100,
        random_state: Any = 0,
        device: Union[str, torch.device, None] = "cpu",
        progress: bool = False,
        epoch_log: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_every: int = 10,
    ) -> None:
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.hops = hops
        self.gamma = gamma
        self.tol = tol
        self.kmeans_n_init = kmeans_n_init
        self.epochs = epochs
        self.random_state = random_state
        self.device = device
        self.progress = progress
        self.epoch_log = epoch_log
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every

    def _check_params(self, x: Tensor) -> None:
        check_n_clusters(self.n_clusters, x.size(0))
        self._check_common_params()
        check_int(self.epochs, "epochs", minimum=1)
        if self.n_clusters > x.size(1):
            raise GraphclInputError(f"n_clusters={self.n_clusters} exceeds the feature count {x.size(1)}: the similarity "
                                    f"matrix Z Z^T has rank at most {x.size(1)}, so it has no {self.n_clusters} eigenvectors")
        check_float(self.alpha, "alpha", 0.0, 1.0, max_inclusive=False)
        check_int(self.hops, "hops", minimum=0)
        check_float(self.gamma, "gamma", 0.0, 1.0)
        check_float(self.tol, "tol", 0.0)
        check_int(self.kmeans_n_init, "kmeans_n_init")
        if self.checkpoint is not None:
            raise GraphclInputError(f"{type(self).__name__} trains nothing, so it writes no training checkpoint: "
                                    f"checkpoint must be None, got {self.checkpoint!r}")

    def fit(self, data: Any, edge_index: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None, y: Any = None,
            resume: Any = None) -> "SmoothedSpectral":
        """Cluster a graph: a PyG ``Data`` or a feature tensor ``[N, d]`` with ``edge_index``.
        Labels are never read (``y`` is accepted and ignored). ``resume`` is refused (there is
        no training to continue)."""
        x, edge_index, edge_weight = unpack_graph(data, edge_index, edge_weight, f"{type(self).__name__}.fit")
        self._check_params(x)
        if resume is not None:
            raise GraphclInputError(f"{type(self).__name__} trains nothing: there is no run to resume")
        device = resolve_device(self.device)
        self._seeded(self._fit, x, edge_index, edge_weight, device)
        return self

    def _fit(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], device: torch.device) -> None:
        t0 = time.perf_counter()
        x = F.normalize(x.to(device, torch.float32), dim=1)
        z = F.normalize(self._smooth(x, edge_index, edge_weight), dim=1)
        prepare = time.perf_counter() - t0
        t0 = time.perf_counter()
        history, seconds = [], []
        last = [time.perf_counter()]
        with EpochMonitor(self.epochs, type(self).__name__, self.progress, self.epoch_log) as monitor:
            def report(it: int, trace: float, residual: float) -> None:
                terms = {"loss": -trace / self.n_clusters, "residual": residual}
                now = time.perf_counter()
                seconds.append(now - last[0])
                last[0] = now
                history.append(terms)
                monitor.update(it, terms, seconds[-1])

            out = spectral_clustering(z, self.n_clusters, gamma=self.gamma, max_iter=self.epochs, tol=self.tol,
                                      random_state=self.random_state_, n_init=self.kmeans_n_init, callback=report)
        eig = out.eigen
        self.embeddings_ = out.embedding.cpu().numpy()
        self.labels_ = out.labels.cpu().numpy()
        self._warn_cluster_count(self.labels_)
        self.cluster_centers_ = out.centers.cpu().numpy()
        self.eigenvalues_ = eig.values.cpu().numpy()
        self.n_iter_, self.residual_ = eig.n_iter, eig.residual
        self.loss_history_ = history
        self.timings_ = {"prepare_seconds": prepare, "pretrain_seconds": 0.0,
                         "train_seconds": time.perf_counter() - t0, "epoch_seconds": seconds}
        self.n_features_in_, self.device_ = x.size(1), device

    def _smooth(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor]) -> Tensor:
        r""":math:`(1-\alpha)\sum_t \alpha^t \hat A^t x` on the input graph."""
        ew = None if edge_weight is None else edge_weight.to(x.device)
        return geometric_smoothing(x, edge_index.to(x.device), ew, alpha=self.alpha, hops=self.hops)

    def fit_predict(self, data: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """``fit(data).labels_``."""
        return self.fit(data, **kwargs).labels_

    def _fitted_modules(self) -> Dict[str, Optional[torch.nn.Module]]:
        return {}

    def _checkpoint_extra(self) -> Dict[str, Any]:
        return {"num_features": self.n_features_in_}

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device: torch.device) -> "SmoothedSpectral":
        est = cls(**payload["params"])
        est._restore_attributes(payload)
        est.n_features_in_, est.device_ = payload["num_features"], device
        return est


@register("spectral_metapath", family="heterogeneous", config=("spectral.yaml", "spectral"))
class SmoothedSpectralMetaPath(SmoothedSpectral):
    r""":class:`SmoothedSpectral` on a heterogeneous graph's target nodes, through its meta-paths.

    .. math::
        Z = \mathrm{rownorm}\Big(\frac1M\sum_{m=1}^{M} (1-\alpha)\sum_{t=0}^{T}\alpha^t
            \hat A_m^t \tilde X\Big),

    with :math:`\hat A_m = D^{-1/2}(A_m+I)D^{-1/2}` for the binary meta-path adjacency
    :math:`A_m` of meta-path ``m`` between target nodes (its diagonal dropped), then the same
    modularity eigenvectors and k-means. :math:`\tilde X` is the target type's features,
    rows L2-normalised; a target type without features gets label-free ones from the graph
    (``featureless``): :func:`graphcl.data.metapath_svd_features` (``"svd"``, the default: the
    rank-``sketch_dim`` approximation of the meta-path-smoothed one-hot features that the
    ``kmeans_smoothed`` baseline clusters, rows unit) or
    :func:`graphcl.data.neighbour_sketch_features` (``"sketch"``: a seeded random projection of
    each node's set of neighbours of every other type, ``sketch_dim`` per relation). Each meta-path
    smooths on its own and the results are averaged (as the ``kmeans_smoothed`` baseline
    does), rather than smoothing once over the union of the meta-path graphs.

    Args:
        target: Target node type (default ``data.target_node_type``).
        metapaths: ``{name: [edge types]}`` or a list of edge-type lists (default
            ``data.metapaths``), each starting and ending at the target type.
        sketch_dim: Sketch size per relation (``"sketch"``) or feature size (``"svd"``) for a
            featureless target.
        featureless: ``"svd"`` or ``"sketch"``: the features of a featureless target.
        **kwargs: The arguments of :class:`SmoothedSpectral`.

    Attributes:
        As :class:`SmoothedSpectral`, for the target nodes; ``n_epochs_`` (int) the subspace
        iterations run (the heterogeneous scripts' epoch count).
    """

    def __init__(self, n_clusters: Optional[int] = None, target: Optional[str] = None, metapaths: Any = None,
                 sketch_dim: int = 64, featureless: str = "svd", **kwargs: Any) -> None:
        super().__init__(n_clusters, **kwargs)
        self.target = target
        self.metapaths = metapaths
        self.sketch_dim = sketch_dim
        self.featureless = featureless

    def fit(self, data: Any, y: Any = None, resume: Any = None) -> "SmoothedSpectralMetaPath":  # type: ignore[override]
        """Cluster the target nodes of a ``HeteroData``; labels are never read."""
        from graphcl.data import neighbour_sketch_features
        from graphcl.data.graph_features import binary_metapath_graphs, smoothed_onehot_svd
        from graphcl.data.metapath_inputs import resolve_metapaths, resolve_target

        target = resolve_target(data, self.target, type(self).__name__)
        metapaths = resolve_metapaths(data, self.metapaths)
        check_int(self.sketch_dim, "sketch_dim")
        check_choice(self.featureless, "featureless", ("sketch", "svd"))
        if resume is not None:
            raise GraphclInputError(f"{type(self).__name__} trains nothing: there is no run to resume")
        graphs = binary_metapath_graphs(data, list(metapaths.values()))  # the smoothing's and the SVD's
        x = data[target].get("x")
        self.featureless_ = x is None
        if x is None:
            seed = seed_from(self.random_state)
            if self.featureless == "svd":
                x = smoothed_onehot_svd(graphs, int(data[target].num_nodes), self.sketch_dim, seed=seed, node_type=target)
            else:
                x = neighbour_sketch_features(data, target, dim=self.sketch_dim, seed=seed)
        x = torch.as_tensor(x)
        self._check_params(x)
        self.metapath_names_ = list(metapaths)
        device = resolve_device(self.device)
        self._seeded(self._fit, x, graphs, None, device)
        self.n_epochs_ = self.n_iter_
        return self

    def _smooth(self, x: Tensor, graphs: Any, edge_weight: Optional[Tensor]) -> Tensor:
        """The mean over meta-paths of each one's geometric smoothing."""
        out = torch.zeros_like(x)
        for ei in graphs:
            out += geometric_smoothing(x, ei.to(x.device), None, alpha=self.alpha, hops=self.hops)
        return out / len(graphs)
