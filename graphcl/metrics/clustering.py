"""Supervised clustering metrics: ACC (Hungarian), NMI, ARI and macro-F1.

All functions take two label vectors (numpy arrays, lists or torch tensors on any device),
validate them with :func:`graphcl.validation.check_labels` and never mutate them. Labels may
be arbitrary integers (``1..6``, negative ids, gaps); only their identity matters.

When the number of predicted clusters ``K`` differs from the number of classes ``C`` the
predictions are matched to the classes *one-to-one* by the Hungarian algorithm on the
rectangular ``C x K`` confusion matrix: at most ``min(C, K)`` pairs are formed and every point
of an unmatched cluster counts as an error (no re-labelling of predictions, unlike the SCGC
reference's ``eva``). Macro-F1 is averaged over the true classes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score

from graphcl.errors import GraphclInputError
from graphcl.validation import check_labels

__all__ = [
    "ClusteringMetrics",
    "ari",
    "cluster_acc",
    "cluster_f1",
    "confusion_matrix",
    "evaluate_clustering",
    "matched_predictions",
    "nmi",
]

METRIC_NAMES: Tuple[str, ...] = ("acc", "nmi", "ari", "f1")


def _confusion(yt: np.ndarray, yp: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Confusion matrix of already-validated int64 arrays, plus the inverse indices."""
    classes, t_idx = np.unique(yt, return_inverse=True)
    clusters, p_idx = np.unique(yp, return_inverse=True)
    t_idx = t_idx.reshape(-1)
    p_idx = p_idx.reshape(-1)
    n_c, n_k = classes.shape[0], clusters.shape[0]
    counts = np.bincount(t_idx * n_k + p_idx, minlength=n_c * n_k).reshape(n_c, n_k)
    return counts.astype(np.int64, copy=False), classes, clusters, t_idx, p_idx


def _match(counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """One-to-one maximum-weight matching of the rows (classes) and columns (clusters).

    Columns are first put in a canonical order that depends only on their contents, so the
    matching (and hence F1 under ties) does not depend on how the clusters happen to be numbered:
    two clusters that end up in the same sorted position have identical count columns.

    Returns:
        ``(rows, cols)``: matched class indices and cluster indices (into ``counts``).
    """
    order = np.lexsort(counts[::-1])  # columns sorted by (C[0, j], C[1, j], ...), stable
    rows, cols_sorted = linear_sum_assignment(counts[:, order], maximize=True)
    return rows, order[cols_sorted]


def confusion_matrix(y_true: Any, y_pred: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency table of true classes against predicted clusters.

    ``C[i, j] = |{n : y_true[n] == classes[i] and y_pred[n] == clusters[j]}|``.

    Args:
        y_true: Ground-truth labels, shape ``[N]`` (array-like or tensor, integer-valued).
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        ``(C, classes, clusters)``: ``C`` is an int64 array of shape ``[num_classes, num_clusters]``;
        ``classes`` and ``clusters`` are the sorted distinct values of ``y_true`` and ``y_pred``
        giving the meaning of the rows and columns.

    Raises:
        GraphclInputError: inputs not 1-D, empty, non-integer or of different lengths.
    """
    yt, yp = check_labels(y_true, y_pred)
    counts, classes, clusters, _, _ = _confusion(yt, yp)
    return counts, classes, clusters


def cluster_acc(y_true: Any, y_pred: Any) -> float:
    """Clustering accuracy with the best one-to-one cluster-to-class matching.

    ``ACC = max_M sum_{(i, j) in M} C[i, j] / N`` over one-to-one matchings ``M`` between the
    ``C`` classes and the ``K`` clusters (Hungarian algorithm on the rectangular confusion matrix).
    With ``K > C`` the points of the ``K - C`` unmatched clusters are errors; with ``K < C`` the
    unmatched classes are simply never predicted.

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        Accuracy in ``[0, 1]`` as a Python float.
    """
    yt, yp = check_labels(y_true, y_pred)
    counts = _confusion(yt, yp)[0]
    rows, cols = _match(counts)
    return float(counts[rows, cols].sum()) / float(yt.shape[0])


def _unmatched_value(classes: np.ndarray) -> int:
    """The id given to points of unmatched clusters: ``min(classes) - 1`` (never a class id)."""
    lo = int(classes.min())
    if lo == np.iinfo(np.int64).min:  # pragma: no cover - pathological
        used = set(classes.tolist())
        v = lo + 1
        while v in used:
            v += 1
        return v
    return lo - 1


def _matched(yt: np.ndarray, yp: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    counts, classes, _clusters, _t_idx, p_idx = _confusion(yt, yp)
    rows, cols = _match(counts)
    lut = np.full(counts.shape[1], _unmatched_value(classes), dtype=np.int64)
    lut[cols] = classes[rows]
    return lut[p_idx], classes


def matched_predictions(y_true: Any, y_pred: Any) -> np.ndarray:
    """Relabel the predicted clusters with the class ids they are matched to.

    The matching is the one used by :func:`cluster_acc`. Points of clusters left unmatched (only
    when there are more clusters than classes) get the value ``min(y_true) - 1``, which is never a
    class id (``-1`` for classes ``0..C-1``).

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        int64 array of shape ``[N]``; ``(matched_predictions(t, p) == t).mean() == cluster_acc(t, p)``.
    """
    yt, yp = check_labels(y_true, y_pred)
    return _matched(yt, yp)[0]


def _f1(yt: np.ndarray, yp: np.ndarray) -> float:
    mapped, classes = _matched(yt, yp)
    return float(f1_score(yt, mapped, labels=classes, average="macro", zero_division=0))


def cluster_f1(y_true: Any, y_pred: Any) -> float:
    """Macro-F1 of the matched predictions, averaged over the true classes.

    ``F1 = (1/C) sum_c 2 P_c R_c / (P_c + R_c)`` with precision and recall of class ``c`` computed
    on :func:`matched_predictions`; a class that no cluster is matched to has F1 0. Points of
    unmatched clusters are false negatives of their true class.

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        Macro-F1 in ``[0, 1]`` as a Python float.
    """
    yt, yp = check_labels(y_true, y_pred)
    return _f1(yt, yp)


def nmi(y_true: Any, y_pred: Any) -> float:
    """Normalised mutual information, ``I(T; P) / ((H(T) + H(P)) / 2)`` (scikit-learn, arithmetic).

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        NMI in ``[0, 1]`` as a Python float.
    """
    yt, yp = check_labels(y_true, y_pred)
    return float(normalized_mutual_info_score(yt, yp, average_method="arithmetic"))


def ari(y_true: Any, y_pred: Any) -> float:
    """Adjusted Rand index (scikit-learn): 1 for identical partitions, about 0 for random ones.

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        ARI in ``[-1, 1]`` (in fact ``>= -0.5``) as a Python float.
    """
    yt, yp = check_labels(y_true, y_pred)
    return float(adjusted_rand_score(yt, yp))


def _evaluate(yt: np.ndarray, yp: np.ndarray) -> Dict[str, float]:
    counts = _confusion(yt, yp)[0]
    rows, cols = _match(counts)
    return {
        "acc": float(counts[rows, cols].sum()) / float(yt.shape[0]),
        "nmi": float(normalized_mutual_info_score(yt, yp, average_method="arithmetic")),
        "ari": float(adjusted_rand_score(yt, yp)),
        "f1": _f1(yt, yp),
    }


def evaluate_clustering(y_true: Any, y_pred: Any) -> Dict[str, float]:
    """All four clustering metrics at once.

    Args:
        y_true: Ground-truth labels, shape ``[N]``.
        y_pred: Predicted cluster ids, shape ``[N]``.

    Returns:
        ``{"acc": ..., "nmi": ..., "ari": ..., "f1": ...}`` with Python floats (see
        :func:`cluster_acc`, :func:`nmi`, :func:`ari`, :func:`cluster_f1`).
    """
    yt, yp = check_labels(y_true, y_pred)
    return _evaluate(yt, yp)


class ClusteringMetrics:
    """Accumulating clustering metrics (torchmetrics style).

    ``update`` stores copies of each batch of labels (tensors are moved to the CPU), ``compute``
    evaluates ACC / NMI / ARI / F1 on the concatenation of everything seen since the last
    ``reset``. These metrics do not decompose over batches, so the labels themselves are kept.

    Example:
        >>> m = ClusteringMetrics()
        >>> m.update([0, 0, 1], [1, 1, 0])
        >>> m.update([1], [0])
        >>> m.compute()["acc"]
        1.0
    """

    def __init__(self) -> None:
        self._true: List[np.ndarray] = []
        self._pred: List[np.ndarray] = []

    def update(self, y_true: Any, y_pred: Any) -> None:
        """Add a batch of ``[B]`` true labels and ``[B]`` predicted cluster ids."""
        yt, yp = check_labels(y_true, y_pred)
        self._true.append(yt)
        self._pred.append(yp)

    def compute(self) -> Dict[str, float]:
        """Metrics over all batches seen so far: ``{"acc", "nmi", "ari", "f1"}`` as floats.

        Raises:
            GraphclInputError: if ``update`` was never called since construction or ``reset``.
        """
        if not self._true:
            raise GraphclInputError("ClusteringMetrics.compute() called before any update(y_true, y_pred)")
        return _evaluate(np.concatenate(self._true), np.concatenate(self._pred))

    def reset(self) -> None:
        """Forget all accumulated labels."""
        self._true.clear()
        self._pred.clear()

    @property
    def num_samples(self) -> int:
        """Number of labelled points accumulated so far."""
        return int(sum(a.shape[0] for a in self._true))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_samples={self.num_samples})"
