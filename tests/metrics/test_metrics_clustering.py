"""Tests for graphcl.metrics.clustering (ACC / NMI / ARI / F1)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score

from graphcl.errors import GraphclInputError
from graphcl.metrics import (
    ClusteringMetrics,
    ari,
    cluster_acc,
    cluster_f1,
    confusion_matrix,
    evaluate_clustering,
    matched_predictions,
    nmi,
)

METRICS = {"acc": cluster_acc, "nmi": nmi, "ari": ari, "f1": cluster_f1}


def brute_force_acc(y_true, y_pred) -> float:
    """Best one-to-one matching by enumerating every injective map (written from the definition)."""
    y_true = list(np.asarray(y_true).tolist())
    y_pred = list(np.asarray(y_pred).tolist())
    classes = sorted(set(y_true))
    clusters = sorted(set(y_pred))
    best = 0
    if len(clusters) <= len(classes):
        for image in itertools.permutations(classes, len(clusters)):
            mapping = dict(zip(clusters, image))
            best = max(best, sum(mapping[p] == t for t, p in zip(y_true, y_pred)))
    else:
        for chosen in itertools.permutations(clusters, len(classes)):
            mapping = dict(zip(chosen, classes))  # clusters not chosen map to nothing (errors)
            best = max(best, sum(mapping.get(p) == t for t, p in zip(y_true, y_pred)))
    return best / len(y_true)


# --------------------------------------------------------------------------- hand-worked cases


def test_confusion_matrix_hand():
    C, classes, clusters = confusion_matrix([1, 1, 2, 2, 2], [7, 3, 3, 3, 7])
    np.testing.assert_array_equal(classes, [1, 2])
    np.testing.assert_array_equal(clusters, [3, 7])
    np.testing.assert_array_equal(C, [[1, 1], [2, 1]])
    assert C.dtype == np.int64


def test_fewer_clusters_than_classes():
    # classes 0,1,2 (2 points each); only 2 clusters. cluster 1 -> class 0 (2 hits),
    # cluster 0 -> class 1 or 2 (2 hits); class left unmatched: 2 errors more. ACC = 4/6.
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [1, 1, 0, 0, 0, 0]
    assert cluster_acc(y_true, y_pred) == pytest.approx(4 / 6)
    # F1: class 0 -> 1; matched class -> P=2/4, R=1, F1=2/3; unmatched class -> 0. mean = 5/9.
    assert cluster_f1(y_true, y_pred) == pytest.approx(5 / 9)
    mapped = matched_predictions(y_true, y_pred)
    assert mapped[0] == mapped[1] == 0
    assert mapped[2] == mapped[3] == mapped[4] == mapped[5]
    assert mapped[2] in (1, 2)


def test_more_clusters_than_classes_extra_cluster_is_error():
    # cluster 2 holds a single point of class 0; it cannot be matched (2 classes), so it is an error.
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [0, 0, 2, 1, 1, 1]
    assert cluster_acc(y_true, y_pred) == pytest.approx(5 / 6)
    mapped = matched_predictions(y_true, y_pred)
    np.testing.assert_array_equal(mapped, [0, 0, -1, 1, 1, 1])  # unmatched -> min(y_true) - 1
    # class 0: P = 1, R = 2/3 -> F1 = 0.8; class 1: F1 = 1. macro over true classes = 0.9.
    assert cluster_f1(y_true, y_pred) == pytest.approx(0.9)


def test_all_singletons():
    # four clusters, two classes: only two clusters can be matched -> 2 of 4 points right.
    assert cluster_acc([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(0.5)
    assert cluster_acc([5, 5, 5], [9, 9, 9]) == 1.0


def test_unmatched_value_not_a_class_with_arbitrary_ids():
    y_true = np.array([-3, -3, 4, 4, 10])
    y_pred = np.array([0, 1, 2, 2, 3])
    mapped = matched_predictions(y_true, y_pred)
    assert set(mapped.tolist()) - set(y_true.tolist()) <= {-4}
    assert (mapped == y_true).mean() == pytest.approx(cluster_acc(y_true, y_pred))


def test_perfect_and_relabelled():
    y = [0, 0, 1, 1, 2, 2, 2]
    perm = [2, 2, 0, 0, 1, 1, 1]
    for out in (evaluate_clustering(y, y), evaluate_clustering(y, perm)):
        for k, v in out.items():
            assert v == pytest.approx(1.0), k


def test_labels_one_based_equal_zero_based():
    rng = np.random.default_rng(0)
    y0 = rng.integers(0, 6, size=200)
    p = rng.integers(0, 5, size=200)
    a = evaluate_clustering(y0, p)
    b = evaluate_clustering(y0 + 1, p)
    assert a == pytest.approx(b)


def test_evaluate_returns_python_floats():
    out = evaluate_clustering([0, 1, 1, 0], [1, 1, 0, 0])
    assert set(out) == {"acc", "nmi", "ari", "f1"}
    assert all(type(v) is float for v in out.values())


# --------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("n_classes,n_clusters", [(3, 3), (4, 2), (2, 5), (5, 4), (3, 6), (1, 3), (3, 1)])
@pytest.mark.parametrize("seed", range(4))
def test_agreement_with_sklearn_and_brute_force(n_classes, n_clusters, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    y_true = rng.integers(0, n_classes, size=n)
    y_pred = rng.integers(0, n_clusters, size=n)
    assert cluster_acc(y_true, y_pred) == pytest.approx(brute_force_acc(y_true, y_pred))
    assert nmi(y_true, y_pred) == pytest.approx(
        normalized_mutual_info_score(y_true, y_pred, average_method="arithmetic")
    )
    assert ari(y_true, y_pred) == pytest.approx(adjusted_rand_score(y_true, y_pred))
    mapped = matched_predictions(y_true, y_pred)
    assert (mapped == y_true).mean() == pytest.approx(cluster_acc(y_true, y_pred))
    classes = np.unique(y_true)
    assert cluster_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, mapped, labels=classes, average="macro", zero_division=0)
    )


def test_f1_matches_reference_when_counts_equal():
    # With K == C and all clusters non-empty, the reference's mapping + macro-F1 is the same thing.
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, size=300)
    y_pred = (y_true + (rng.random(300) < 0.3) * rng.integers(1, 4, size=300)) % 4
    y_pred = np.array([2, 0, 3, 1])[y_pred]
    mapped = matched_predictions(y_true, y_pred)
    assert cluster_f1(y_true, y_pred) == pytest.approx(f1_score(y_true, mapped, average="macro"))


# --------------------------------------------------------------------------- input handling


def test_inputs_not_mutated():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([1, 1, 0, 0, 0, 0])
    t_copy, p_copy = y_true.copy(), y_pred.copy()
    yt_t, yp_t = torch.tensor(y_true), torch.tensor(y_pred)
    for fn in (*METRICS.values(), matched_predictions, confusion_matrix, evaluate_clustering):
        fn(y_true, y_pred)
        fn(yt_t, yp_t)
    np.testing.assert_array_equal(y_true, t_copy)
    np.testing.assert_array_equal(y_pred, p_copy)
    assert torch.equal(yt_t, torch.tensor(t_copy)) and torch.equal(yp_t, torch.tensor(p_copy))


def test_tensor_and_list_inputs():
    y_true = [0, 0, 1, 1, 2, 2, 2, 1]
    y_pred = [1, 1, 0, 0, 2, 2, 0, 0]
    ref = evaluate_clustering(np.array(y_true), np.array(y_pred))
    assert evaluate_clustering(y_true, y_pred) == pytest.approx(ref)
    assert evaluate_clustering(torch.tensor(y_true), torch.tensor(y_pred)) == pytest.approx(ref)
    assert evaluate_clustering(torch.tensor(y_true, dtype=torch.int32), torch.tensor(y_pred)) == pytest.approx(ref)
    if torch.cuda.is_available():  # pragma: no cover - CPU CI
        assert evaluate_clustering(torch.tensor(y_true).cuda(), torch.tensor(y_pred).cuda()) == pytest.approx(ref)


@pytest.mark.parametrize("fn", [*METRICS.values(), matched_predictions, confusion_matrix, evaluate_clustering])
def test_errors_name_the_argument(fn):
    with pytest.raises(GraphclInputError, match="y_true.*y_pred|different lengths"):
        fn([0, 1, 2], [0, 1])
    with pytest.raises(GraphclInputError, match="y_true"):
        fn(np.zeros((3, 2), dtype=int), [0, 1, 2])
    with pytest.raises(GraphclInputError, match="y_pred"):
        fn([0, 1, 2], np.zeros((3, 1), dtype=int))
    with pytest.raises(GraphclInputError, match="y_pred"):
        fn([0, 1], [])
    with pytest.raises(GraphclInputError, match="y_true"):
        fn([], [])
    with pytest.raises(GraphclInputError, match="y_pred"):
        fn([0, 1], [0.5, 1.0])
    # GraphclInputError is a ValueError
    with pytest.raises(ValueError):
        fn([0, 1, 2], [0, 1])


def test_error_message_for_different_lengths_names_both():
    with pytest.raises(GraphclInputError) as info:
        cluster_acc([0, 1, 2], [0, 1])
    assert "y_true" in str(info.value) and "y_pred" in str(info.value)


# --------------------------------------------------------------------------- accumulating class


def test_clustering_metrics_accumulates():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, size=100)
    y_pred = rng.integers(0, 5, size=100)
    m = ClusteringMetrics()
    m.update(y_true[:30], y_pred[:30])
    m.update(torch.tensor(y_true[30:70]), torch.tensor(y_pred[30:70]))
    m.update(list(y_true[70:]), list(y_pred[70:]))
    assert m.num_samples == 100
    assert "100" in repr(m)
    assert m.compute() == pytest.approx(evaluate_clustering(y_true, y_pred))
    m.reset()
    with pytest.raises(GraphclInputError, match="update"):
        m.compute()
    m.update([0, 1], [1, 0])
    assert m.compute()["acc"] == 1.0


def test_clustering_metrics_validates():
    m = ClusteringMetrics()
    with pytest.raises(GraphclInputError, match="y_true"):
        m.update([[0, 1]], [0, 1])
    assert m.num_samples == 0


# --------------------------------------------------------------------------- properties


@st.composite
def labelings(draw):
    n = draw(st.integers(1, 30))
    n_classes = draw(st.integers(1, 5))
    n_clusters = draw(st.integers(1, 6))
    y_true = draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, n_clusters - 1), min_size=n, max_size=n))
    perm = draw(st.permutations(list(range(n_clusters))))
    # a relabelling of the clusters to arbitrary, non-contiguous, possibly negative ids
    new_ids = [7 * p - 9 for p in perm]
    relabelled = [new_ids[p] for p in y_pred]
    return np.array(y_true), np.array(y_pred), np.array(relabelled)


@settings(deadline=None, max_examples=50)
@given(labelings())
def test_cluster_relabelling_invariance(data):
    y_true, y_pred, relabelled = data
    a = evaluate_clustering(y_true, y_pred)
    b = evaluate_clustering(y_true, relabelled)
    assert a == pytest.approx(b, abs=1e-12)


@settings(deadline=None, max_examples=50)
@given(labelings())
def test_metrics_finite_and_in_range(data):
    y_true, y_pred, _ = data
    out = evaluate_clustering(y_true, y_pred)
    assert all(math.isfinite(v) for v in out.values())
    assert 0.0 <= out["acc"] <= 1.0
    assert 0.0 <= out["nmi"] <= 1.0 + 1e-12
    assert -1.0 <= out["ari"] <= 1.0 + 1e-12
    assert 0.0 <= out["f1"] <= 1.0
    # ACC is at least the share of the largest cell, and at most 1; equals the brute force
    assert out["acc"] == pytest.approx(brute_force_acc(y_true, y_pred))


@settings(deadline=None, max_examples=50)
@given(labelings())
def test_perfect_prediction_scores_one(data):
    y_true, _, _ = data
    classes = np.unique(y_true)
    ids = np.random.default_rng(len(y_true)).permutation(len(classes)) * 3 + 100
    y_pred = ids[np.searchsorted(classes, y_true)]
    out = evaluate_clustering(y_true, y_pred)
    for k, v in out.items():
        assert v == pytest.approx(1.0), k
