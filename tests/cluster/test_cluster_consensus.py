"""The consensus of several clusterings: k-means on the concatenated one-hot memberships."""

import numpy as np
import pytest

from graphcl.cluster import consensus_clustering, membership_matrix
from graphcl.errors import GraphclInputError
from graphcl.metrics import evaluate_clustering


def _same_partition(a, b):
    return evaluate_clustering(a, b)["acc"] == 1.0 and len(np.unique(a)) == len(np.unique(b))


def test_membership_matrix_is_the_dense_one_hot_concatenation():
    p1 = np.array([0, 0, 1, 1, 2])
    p2 = np.array([7, 3, 3, 7, 7])  # labels compacted: 3 -> 0, 7 -> 1
    h = membership_matrix([p1, p2])
    dense = np.concatenate([np.eye(3)[p1], np.eye(2)[np.array([1, 0, 0, 1, 1])]], axis=1)
    np.testing.assert_array_equal(h.toarray(), dense)
    assert h.shape == (5, 5) and h.nnz == 10 and (h.sum(axis=1) == 2).all()


def test_the_consensus_of_one_partition_or_of_copies_is_that_partition():
    rng = np.random.default_rng(0)
    p = rng.integers(0, 4, 200)
    assert _same_partition(consensus_clustering([p], 4), p)
    relabelled = (p + 1) % 4  # the same partition under other names
    assert _same_partition(consensus_clustering([p, relabelled, p], 4, random_state=3), p)


def test_the_consensus_follows_the_majority_and_repairs_noisy_members():
    rng = np.random.default_rng(1)
    truth = np.repeat(np.arange(5), 60)
    members = []
    for _ in range(7):  # each member: 25 % of the nodes moved to a random cluster
        p = truth.copy()
        moved = rng.random(truth.size) < 0.25
        p[moved] = rng.integers(0, 5, moved.sum())
        members.append(rng.permutation(5)[p])  # and its clusters renamed
    c = consensus_clustering(members, 5, random_state=0)
    assert all(evaluate_clustering(truth, m)["acc"] < 0.85 for m in members)
    assert evaluate_clustering(truth, c)["acc"] > 0.97  # the consensus is better than every member


def test_the_consensus_maximises_the_summed_category_utility():
    """The module's identity: k-means on the memberships maximises sum_j sum_k sum_l n_kl^2 / |C_k|;
    checked by brute force over every 2-clustering of 8 nodes."""
    import itertools

    rng = np.random.default_rng(2)
    members = [rng.integers(0, 3, 8) for _ in range(4)]

    def utility(labels):
        total = 0.0
        for m in members:
            for k in np.unique(labels):
                inside = m[labels == k]
                total += (np.bincount(inside) ** 2).sum() / inside.size
        return total

    best = max(utility(np.array(bits)) for bits in itertools.product([0, 1], repeat=8) if 0 < sum(bits) < 8)
    got = consensus_clustering(members, 2, random_state=0, n_init=50)
    assert utility(got) == pytest.approx(best)
    # and the k-means objective equals N m - utility (the identity itself)
    h = membership_matrix(members).toarray()
    sse = sum(((h[got == k] - h[got == k].mean(0)) ** 2).sum() for k in (0, 1))
    assert sse == pytest.approx(8 * 4 - utility(got))


def test_consensus_is_deterministic_and_label_count_is_k():
    rng = np.random.default_rng(3)
    members = [rng.integers(0, 6, 300) for _ in range(3)]
    a = consensus_clustering(members, 6, random_state=5)
    np.testing.assert_array_equal(a, consensus_clustering(members, 6, random_state=5))
    assert a.dtype == np.int64 and a.shape == (300,) and set(np.unique(a)) <= set(range(6))


def test_bad_partitions_are_refused():
    with pytest.raises(GraphclInputError, match="no partition"):
        consensus_clustering([], 2)
    with pytest.raises(GraphclInputError, match="partition 1 has shape"):
        consensus_clustering([np.zeros(5, dtype=int), np.zeros(4, dtype=int)], 2)
    with pytest.raises(GraphclInputError, match="not integer labels"):
        consensus_clustering([np.zeros(5)], 2)
    with pytest.raises(GraphclInputError, match="partition 0 has shape"):
        consensus_clustering([np.zeros((5, 2), dtype=int)], 2)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        consensus_clustering([np.arange(5)], 6)
