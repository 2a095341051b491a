r"""Label-free selection of a homogeneous method's configuration on a user's graph.

A graph without a published configuration gets the ``default:`` block; :func:`select` instead
fits a small grid and returns the consensus of the grid's clusterings (by default), or keeps the
configuration whose clustering scores best by a **label-free** criterion computed on the input
graph and the embedding (see *Combine them, or keep one* below). Labels are never read: the
graph is rebuilt from its features and edges alone before anything is fitted.

The grid (``DEFAULT_GRID``) varies three things, searched coordinate-wise so that it costs six
fits and two autoencoder pretrainings:

1. every ``(input_hops, order)`` pair at the configured temperature ``T`` (four fits): the
   MLP's input is the raw ``X`` (``input_hops=0``) or the propagated features
   :math:`\hat A^h X` (computed once, ``O(nnz · d · h)``; the encoder stays an MLP and the loss
   cost is unchanged), and the influence order ``r`` of the positives :math:`\sum_{k \le r}
   \hat A^k`;
2. at the best pair, the temperature scaled by each of ``temperature_scale`` (two fits).

An influence order whose positive-weight matrix holds more than ``max_positives`` pairs per
node on average is **skipped** (for every input: ``W`` depends on the graph alone), except the
grid's smallest order, which is always fitted. Such a matrix is no longer a neighbourhood (on
Amazon Photo, order 3 links each node to 2,519 others, a third of the graph) and its ``nnz · d``
term dominates an epoch's time and memory (Photo's order-3 fits took 3× the order-1 fit), which
would break the selection's cost bound (a few default fits, memory ``O(nnz · d + N · d)``). The
skipped orders and their pair counts are recorded (``SelectionResult.skipped``).

The fits of one input share their pretrained autoencoder (through a cache folder, a private one
when the estimator's ``cache`` is off). Every grid point records every score, whatever the
criterion:

* ``silhouette`` (maximised, the default): cosine silhouette of the embedding on a seeded sample
  of at most ``silhouette_sample`` nodes (``O(S² d)``). It is the criterion that orders the
  recorded grids best (mean Spearman ρ +0.57 with ACC over 31 distinct seed grids of five benchmarks,
  ``docs/selection.md``), but between temperatures it follows the temperature (it rises with
  ``T`` on nearly every recorded stage), so its temperature stage is close to a fixed rule;
* ``modularity_gain`` (maximised): the modularity below minus that of k-means on
  the grid point's own input (``X`` or :math:`\hat A^h X`). Propagating the input raises the
  modularity of any clustering of it, so plain modularity prefers the propagated input whatever
  the encoder does with it; the gain scores what the method adds to its input;
* ``modularity`` (maximised): Newman modularity of the hard clustering on the
  input graph (:func:`graphcl.metrics.modularity`); studied for selecting graph clusterings
  without labels by Leeney & McConville (arXiv 2402.07845);
* ``conductance`` (minimised): the mean conductance of the clusters.

Which criterion orders configurations like the labels would is an empirical question; the
result records all of them so that it can be measured (``docs/selection.md``).

**Combine them, or keep one** (``combine``): ``"consensus"`` (the default since 2026-12-05)
returns the consensus of *every* fitted grid point's clustering
(:func:`graphcl.cluster.consensus_clustering`: k-means on the nodes' concatenated one-hot
memberships, the partition that agrees best with all of them; ``O(N · m · K)`` for ``m`` grid
points). It needs no criterion to order the grid, which none of the four does reliably
(``docs/results.md``); the criterion still steers the temperature stage and picks the grid
point whose estimator provides the embedding. ``"best"`` (the default before) returns that
chosen grid point's clustering instead. On the committed grids of the six benchmarks the
consensus scored above the silhouette's pick on five and below it on ACM
(``docs/selection.md``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.validation import check_choice, check_edge_index, check_edge_weight, check_features, check_float, check_int

__all__ = ["COMBINE", "CRITERIA", "DEFAULT_CRITERION", "DEFAULT_GRID", "DEFAULT_MAX_POSITIVES", "SELECT_CRITERIA", "SelectionResult",
           "clustering_scores", "graph_inputs", "grid_input", "homogeneous_method", "sampled_silhouette", "scored_fit",
           "scores_text", "select"]

#: criterion -> +1 (larger is better) or -1 (smaller is better)
CRITERIA = {"modularity": 1.0, "conductance": -1.0, "silhouette": 1.0}
#: :func:`select`'s criteria: :data:`CRITERIA` plus ``modularity_gain`` (see :func:`select`)
SELECT_CRITERIA = {**CRITERIA, "modularity_gain": 1.0}
#: :func:`select`'s default criterion (``graphcl fit --select``, ``experiments/selected.py``).
DEFAULT_CRITERION = "silhouette"
DEFAULT_GRID: Dict[str, Sequence[float]] = {"input_hops": (0, 2), "order": (1, 3), "temperature_scale": (0.5, 2.0)}
#: :func:`select`'s ways of turning the fitted grid into one clustering (the first is the default).
COMBINE = ("consensus", "best")
#: Mean positive pairs per node above which :func:`select` skips an influence order.
DEFAULT_MAX_POSITIVES = 256.0


@dataclass
class SelectionResult:
    """What :func:`select` found.

    Attributes:
        estimator: The fitted estimator of the chosen configuration (its ``embeddings_`` are
            the pipeline's embedding; its ``labels_`` the pipeline's clustering only when
            ``combine == "best"``: use :attr:`labels`).
        choice: The chosen grid point: ``input_hops``, ``order``, ``temperature`` (and its
            ``seed`` with ``restarts > 1``).
        grid: One dict per fitted grid point: its parameters, ``modularity``, ``conductance``,
            ``silhouette``, ``n_predicted_clusters``, ``fit_seconds``, and ``chosen``.
        criterion: The criterion the choice maximised (conductance: minimised).
        grid_labels: The hard labels of each grid point, in ``grid`` order (not in
            :meth:`summary`): what a study of the criterion scores after the fact.
        skipped: One dict per influence order that was not fitted: ``order``,
            ``positive_pairs``, ``positives_per_node`` and ``max_positives``.
        combine: ``"best"`` or ``"consensus"`` (see :func:`select`).
        restarts: How many seeds the grid was fitted from (see :func:`select`).
        consensus_labels: With ``combine == "consensus"``, the consensus clustering ``[N]`` of
            every grid point's labels; ``None`` otherwise.
        input_hops: ``choice["input_hops"]``: ``estimator.predict`` expects features propagated
            this many hops (:func:`graphcl.ops.smooth_features`), not the raw ``X``.
        labels: The pipeline's clustering ``[N]``: ``consensus_labels`` when combining, else the
            chosen estimator's ``labels_``.
    """

    estimator: Any
    choice: Dict[str, Any]
    grid: List[Dict[str, Any]] = field(default_factory=list)
    criterion: str = DEFAULT_CRITERION
    grid_labels: List[np.ndarray] = field(default_factory=list, repr=False)
    skipped: List[Dict[str, Any]] = field(default_factory=list)
    combine: str = "consensus"
    consensus_labels: Optional[np.ndarray] = field(default=None, repr=False)
    restarts: int = 1

    @property
    def labels(self) -> np.ndarray:
        return self.estimator.labels_ if self.consensus_labels is None else self.consensus_labels

    @property
    def input_hops(self) -> int:
        return int(self.choice["input_hops"])

    def summary(self) -> Dict[str, Any]:
        """The grid and the choice, JSON-ready (with ``combine == "consensus"`` also
        ``consensus``: the number of members, the consensus's cluster count and its NMI with
        each grid point's clustering, in grid order: label-free agreement, no labels read)."""
        out = {"criterion": self.criterion, "combine": self.combine, "restarts": self.restarts, "choice": dict(self.choice),
               "grid": [dict(g) for g in self.grid], "skipped": [dict(g) for g in self.skipped]}
        if self.consensus_labels is not None:
            from sklearn.metrics import normalized_mutual_info_score

            out["consensus"] = {
                "members": len(self.grid_labels),
                "n_predicted_clusters": int(len(np.unique(self.consensus_labels))),
                "member_nmi": [float(normalized_mutual_info_score(p, self.consensus_labels)) for p in self.grid_labels],
            }
        return out


def _graph_scores(edge_index: Tensor, edge_weight: Optional[Tensor], labels: np.ndarray) -> Dict[str, float]:
    """``modularity`` and ``conductance`` of a hard clustering on the graph (edges symmetrised)."""
    from torch_geometric.utils import to_undirected

    from graphcl.metrics import conductance, modularity

    n = labels.shape[0]
    lab = torch.as_tensor(labels, dtype=torch.long)
    ei, w = to_undirected(edge_index, edge_weight, num_nodes=n, reduce="mean")
    return {"modularity": modularity(ei, lab, w, n), "conductance": float(conductance(ei, lab, w, n))}


def clustering_scores(edge_index: Tensor, edge_weight: Optional[Tensor], labels: np.ndarray, embeddings: np.ndarray,
                      *, silhouette_sample: int = 2000, random_state: int = 0) -> Dict[str, float]:
    """The label-free scores of one clustering: ``modularity`` and ``conductance`` on the graph
    (edges symmetrised), ``silhouette`` (cosine) of the embedding on a seeded sample."""
    scores = _graph_scores(edge_index, edge_weight, labels)
    scores["silhouette"] = sampled_silhouette(embeddings, labels, silhouette_sample, random_state)
    return scores


def sampled_silhouette(features: np.ndarray, labels: np.ndarray, sample_size: int = 2000, random_state: int = 0) -> float:
    """Cosine silhouette of the hard clustering ``labels [N]`` in ``features [N, d]``, on a
    seeded sample of at most ``sample_size`` nodes (the rows scikit-learn's own
    ``silhouette_score(..., sample_size, random_state)`` would draw); ``-1.0`` (the worst value)
    where it is undefined: one cluster in the sample (a collapsed run)."""
    from sklearn.metrics import silhouette_score

    n = labels.shape[0]
    sample = np.random.RandomState(int(random_state)).permutation(n)[: min(int(sample_size), n)]
    if len(np.unique(labels[sample])) < 2:
        return -1.0
    return float(silhouette_score(features[sample], labels[sample], metric="cosine"))


def scored_fit(cls: Any, n_clusters: int, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], *,
               silhouette_sample: int, score_seed: int, **params: Any):
    """Fit ``cls(n_clusters, **params)`` on ``(x, edge_index, edge_weight)`` and score its
    clustering without labels.

    Returns:
        ``(estimator, row)``: ``row`` holds ``fit_seconds``, ``n_predicted_clusters`` and the
        :func:`clustering_scores` (silhouette sample drawn from ``score_seed``).
    """
    t0 = time.perf_counter()
    est = cls(n_clusters, **params)
    est.fit(x, edge_index, edge_weight)
    row = {"fit_seconds": time.perf_counter() - t0, "n_predicted_clusters": int(len(np.unique(est.labels_)))}
    row.update(clustering_scores(edge_index, edge_weight, est.labels_, est.embeddings_,
                                 silhouette_sample=silhouette_sample, random_state=score_seed))
    return est, row


def scores_text(row: Mapping[str, Any]) -> str:
    """``"modularity …, conductance …, silhouette … (… s)"`` of a :func:`scored_fit` row."""
    return ", ".join(f"{k} {row[k]:.4f}" for k in CRITERIA) + f" ({row['fit_seconds']:.1f} s)"


def homogeneous_method(method: str, caller: str):
    """The registry entry of ``method``, refused unless it is homogeneous."""
    from graphcl import models

    info = models.info(method)
    if info.family != "homogeneous":
        raise GraphclInputError(f"{caller} works on homogeneous methods; {method!r} is {info.family}")
    return info


def graph_inputs(data: Any, edge_index: Optional[Tensor], caller: str = "select"):
    """``(x, edge_index, edge_weight)`` of a ``Data`` or tensors, checked; never ``y``."""
    if isinstance(data, Tensor):
        x, ew = data, None
        if edge_index is None:
            raise GraphclInputError(f"{caller}: edge_index is required with a feature tensor")
    else:
        if hasattr(data, "node_types"):
            raise GraphclInputError(f"{caller} works on homogeneous graphs (a Data), got a HeteroData")
        x, edge_index, ew = getattr(data, "x", None), getattr(data, "edge_index", None), getattr(data, "edge_weight", None)
        if x is None or edge_index is None:
            raise GraphclInputError(f"{caller}: the graph needs node features 'x' and an 'edge_index'")
    x = check_features(x, "x")
    edge_index = check_edge_index(edge_index, x.size(0))
    return x, edge_index, check_edge_weight(ew, edge_index.size(1))


def _check_grid(grid: Mapping[str, Sequence[float]]) -> Dict[str, List[float]]:
    unknown = sorted(set(grid) - set(DEFAULT_GRID))
    if unknown:
        raise GraphclInputError(f"grid keys {unknown} are unknown (keys: {sorted(DEFAULT_GRID)})")
    out = {k: list(grid.get(k, v)) for k, v in DEFAULT_GRID.items()}
    for key, values in out.items():
        if not values:
            raise GraphclInputError(f"grid[{key!r}] is empty")
    for i, h in enumerate(out["input_hops"]):
        check_int(h, f"grid['input_hops'][{i}]", minimum=0)
    for i, r in enumerate(out["order"]):
        check_int(r, f"grid['order'][{i}]")
    return out


def select(method: str, data: Any, n_clusters: int, *, edge_index: Optional[Tensor] = None,
           params: Optional[Mapping[str, Any]] = None, grid: Optional[Mapping[str, Sequence[float]]] = None,
           criterion: str = DEFAULT_CRITERION, random_state: int = 0, silhouette_sample: int = 2000,
           max_positives: Optional[float] = DEFAULT_MAX_POSITIVES, combine: str = "consensus", restarts: int = 1,
           log=None) -> SelectionResult:
    r"""Fit ``method`` over a small grid and return the consensus of every fitted
    configuration's clustering (``combine="consensus"``, the default), or keep the best
    configuration by a label-free score (``combine="best"``).

    Args:
        method: A registered homogeneous method (``"scgc_star"``, ``"pamc"``, ...).
        data: A PyG ``Data`` (``y``, if any, is never read) or a feature tensor with
            ``edge_index``.
        n_clusters: ``K``.
        params: The estimator's other arguments (e.g. a config's ``default:`` block); the grid
            overrides ``order`` and ``temperature``.
        grid: Overrides of :data:`DEFAULT_GRID` (``input_hops``, ``order``,
            ``temperature_scale``).
        criterion: ``"silhouette"`` (the default), ``"modularity_gain"``, ``"modularity"`` or
            ``"conductance"``. ``"modularity_gain"``: the clustering's modularity minus that of k-means on the
            grid point's own input (``X`` or :math:`\hat A^h X`, ``n_clusters`` clusters, the
            estimator's ``kmeans_n_init`` restarts, seed ``random_state``). Propagating the
            input along the edges raises the modularity of any clustering of it, whatever the
            classes; the gain scores what the method adds to its input. Every grid point
            records ``input_modularity`` and ``modularity_gain`` whatever the criterion.
        random_state: The seed of every fit and of the silhouette sample.
        silhouette_sample: Nodes in the silhouette's seeded sample.
        max_positives: Skip an influence order (other than the grid's smallest) whose
            positive-weight matrix has more pairs than this per node on average (``None``: fit
            every order).
        combine: ``"consensus"`` (default): the pipeline's clustering is the consensus
            (:func:`graphcl.cluster.consensus_clustering`, ``n_clusters`` clusters, the
            estimator's ``kmeans_n_init`` restarts, seed ``random_state``) of all fitted grid
            points' clusterings. ``"best"``: the chosen grid point's. The grid, the scores and
            the choice (whose estimator gives the embedding) are the same either way.
        restarts: ``R >= 1``: fit the whole grid (both stages) from ``R`` seeds,
            ``random_state · R + i`` for ``i < R`` (:mod:`graphcl.restarts`' convention; ``R = 1``:
            ``random_state`` itself), so ``R`` times the fits. The consensus then combines all
            ``R × m`` clusterings; the choice is the best of the restarts' own choices by the
            criterion. Each grid row records its ``seed`` when ``R > 1``.
        log: ``callable(str)`` told about each grid point (``None``: quiet).

    Returns:
        A :class:`SelectionResult`.
    """
    check_choice(criterion, "criterion", tuple(SELECT_CRITERIA))
    check_choice(combine, "combine", COMBINE)
    check_float(max_positives, "max_positives", 0.0, min_inclusive=False, allow_none=True)
    info = homogeneous_method(method, "select")
    missing = sorted({"order", "temperature"} - set(info.cls._get_param_names()))
    if missing:
        raise GraphclInputError(f"select searches the influence order and the temperature; {method!r} "
                                f"({info.cls.__name__}) has no {' or '.join(missing)} to search")
    restarts = check_int(restarts, "restarts")
    grid_values = _check_grid(grid or {})
    x, ei, ew = graph_inputs(data, edge_index)
    params = dict(params or {})
    params.pop("n_clusters", None)
    params.pop("random_state", None)
    base_t = float(params.pop("temperature", info.cls().temperature))
    params.pop("order", None)
    orders, skipped = _affordable_orders(info.cls, params, x.size(0), ei, ew, grid_values["order"], max_positives, log)
    private_cache = None
    if params.get("cache", True) is False:
        private_cache = tempfile.mkdtemp(prefix="graphcl-select-")  # shared pretraining across the grid
        params["cache"] = private_cache
    n_init = int(params.get("kmeans_n_init", info.cls().kmeans_n_init))
    # the grid's seeds: random_state alone, or graphcl.restarts' convention for R restarts
    seeds = [random_state] if restarts == 1 else [random_state * restarts + i for i in range(restarts)]
    inputs: Dict[int, Tensor] = {}
    fitted: Dict[tuple, Any] = {}
    grid_rows: List[Dict[str, Any]] = []
    sign = SELECT_CRITERIA[criterion]
    input_modularity: Dict[Tuple[int, int], float] = {}

    def fit(seed: int, h: int, r: int, t: float) -> Dict[str, Any]:
        if h not in inputs:
            inputs[h], input_modularity[h, seed] = grid_input(x, ei, ew, h, n_clusters, seed, n_init)
        elif (h, seed) not in input_modularity:
            input_modularity[h, seed] = _kmeans_modularity(inputs[h], ei, ew, n_clusters, seed, n_init)
        est, scores = scored_fit(info.cls, n_clusters, inputs[h], ei, ew, silhouette_sample=silhouette_sample,
                                 score_seed=seed, order=r, temperature=t, random_state=seed, **params)
        row = {"input_hops": h, "order": r, "temperature": t, **scores, "input_modularity": input_modularity[h, seed],
               "modularity_gain": scores["modularity"] - input_modularity[h, seed]}
        if restarts > 1:
            row = {"seed": seed, **row}
        fitted[id(row)] = est
        grid_rows.append(row)
        if log is not None:
            log(f"select {method}: {f'seed {seed}: ' if restarts > 1 else ''}input_hops={h} order={r} "
                f"temperature={t:g}: {scores_text(row)}")
        return row

    def best(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
        return max(rows, key=lambda row: sign * row[criterion])  # first of equals: grid order

    picks = []
    try:
        for seed in seeds:  # each restart: the coordinate-wise grid from its own seed
            stage1 = [fit(seed, h, r, base_t) for h in grid_values["input_hops"] for r in orders]
            top = best(stage1)
            stage2 = [fit(seed, top["input_hops"], top["order"], base_t * s) for s in grid_values["temperature_scale"]
                      if s != 1.0]
            picks.append(best([top] + stage2))
    finally:
        if private_cache is not None:
            shutil.rmtree(private_cache, ignore_errors=True)
    chosen = best(picks)  # over the restarts' own choices (first of equals: the earlier restart)
    for row in grid_rows:
        row["chosen"] = row is chosen
    choice = {k: chosen[k] for k in ("input_hops", "order", "temperature")}
    if restarts > 1:
        choice["seed"] = chosen["seed"]
    grid_labels = [fitted[id(row)].labels_ for row in grid_rows]
    consensus = None
    if combine == "consensus":
        from graphcl.cluster import consensus_clustering

        consensus = consensus_clustering(grid_labels, n_clusters, random_state, n_init)
        if log is not None:
            log(f"select {method}: consensus of {len(grid_labels)} grid points, "
                f"{len(np.unique(consensus))} clusters")
    return SelectionResult(fitted[id(chosen)], choice, grid_rows, criterion, grid_labels, skipped, combine, consensus,
                           restarts)


def grid_input(x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], hops: int, n_clusters: int, seed: int,
               n_init: int) -> Tuple[Tensor, float]:
    r"""A grid point's input and what ``modularity_gain`` subtracts: ``(features, modularity)``,
    the features ``X`` (``hops=0``) or :math:`\hat A^h X`, and the modularity of k-means
    (``n_init`` restarts, ``seed``) on them."""
    from graphcl.ops import smooth_features

    features = x if hops == 0 else smooth_features(x, edge_index, edge_weight, hops=hops)
    return features, _kmeans_modularity(features, edge_index, edge_weight, n_clusters, seed, n_init)


def _kmeans_modularity(x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], n_clusters: int, seed: int,
                       n_init: int) -> float:
    """Modularity on the graph of k-means (``n_init`` restarts) on the features ``x``."""
    from graphcl.cluster import kmeans

    _, labels = kmeans(x, n_clusters, random_state=seed, n_init=n_init)
    return _graph_scores(edge_index, edge_weight, labels.cpu().numpy())["modularity"]


def _affordable_orders(cls: Any, params: Mapping[str, Any], n: int, edge_index: Tensor, edge_weight: Optional[Tensor],
                       orders: Sequence[int], max_positives: Optional[float], log) -> tuple:
    """The grid's influence orders whose positive-weight matrix has at most ``max_positives``
    pairs per node (the smallest order always), and a record of each one skipped."""
    orders = list(dict.fromkeys(int(r) for r in orders))
    if max_positives is None or len(orders) == 1:
        return orders, []
    smallest = min(orders)
    kept, skipped = [], []
    for r in orders:
        if r != smallest:
            probe = cls(2, order=r, influence=params.get("influence"))
            pairs = int(probe.positive_weights(edge_index, edge_weight, n)[0].size(1))
            if pairs > max_positives * n:
                skipped.append({"order": r, "positive_pairs": pairs, "positives_per_node": pairs / n,
                                "max_positives": float(max_positives)})
                if log is not None:
                    log(f"select: order {r} skipped: {pairs / n:.0f} positive pairs per node > {max_positives:g}")
                continue
        kept.append(r)
    return kept, skipped
