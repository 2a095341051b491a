"""Restarts kept by a label-free score: seeds, the choice, never reading labels."""

import numpy as np
import pytest
import torch

from graphcl.data import planted_partition_graph
from graphcl.errors import GraphclInputError
from graphcl.models import SCGCStar
from graphcl.restarts import best_of_restarts, restart_seeds
from graphcl.selection import clustering_scores

SMALL = dict(hidden_channels=(16,), embedding_dim=4, pretrain_epochs=3, epochs=4, cache=False, kmeans_n_init=2)


def graph(seed=0):
    return planted_partition_graph(150, 3, avg_degree=6.0, p_intra=0.9, num_features=8, sigma=2.0, seed=seed)


def test_restart_seeds_are_disjoint_across_base_seeds():
    assert restart_seeds(0, 3) == [0, 1, 2] and restart_seeds(2, 3) == [6, 7, 8]
    assert restart_seeds(4, 1) == [4]  # one restart is the plain fit of the seed
    for bad in ((-1, 3), (0, 0)):
        with pytest.raises(GraphclInputError):
            restart_seeds(*bad)


@pytest.mark.parametrize("criterion", ["modularity", "conductance", "silhouette"])
def test_the_kept_restart_is_the_best_by_the_criterion_and_equals_its_plain_fit(criterion, one_thread):
    g = graph()
    res = best_of_restarts("scgc_star", g, 3, params=SMALL, restarts=3, criterion=criterion, random_state=1)
    assert [r["seed"] for r in res.restarts] == [3, 4, 5]
    assert sum(r["chosen"] for r in res.restarts) == 1
    values = [r[criterion] for r in res.restarts]
    best = (np.argmin if criterion == "conductance" else np.argmax)(values)  # first of equals, like the rule
    assert res.restarts[best]["chosen"] and res.seed == res.restarts[best]["seed"]
    # each restart's scores are those of its own clustering, and the kept one is a plain fit of its seed
    for row, labels in zip(res.restarts, res.labels):
        assert row["n_predicted_clusters"] == len(np.unique(labels))
    plain = SCGCStar(3, random_state=res.seed, **SMALL).fit(g.x, g.edge_index)
    np.testing.assert_array_equal(plain.labels_, res.estimator.labels_)
    scores = clustering_scores(g.edge_index, None, plain.labels_, plain.embeddings_, random_state=1)
    assert scores[criterion] == pytest.approx(res.restarts[best][criterion])
    assert set(res.summary()) == {"criterion", "seed", "restarts"} and "labels" not in res.summary()


def test_restarts_never_read_labels(one_thread):
    g = graph(1)
    a = best_of_restarts("pamc", g, 3, params=SMALL, restarts=2)
    permuted = g.clone()
    permuted.y = permuted.y[torch.randperm(150)]
    b = best_of_restarts("pamc", permuted, 3, params=SMALL, restarts=2)
    deleted = g.clone()
    del deleted.y
    c = best_of_restarts("pamc", deleted, 3, params=SMALL, restarts=2)
    assert a.seed == b.seed == c.seed
    np.testing.assert_array_equal(a.estimator.labels_, b.estimator.labels_)
    np.testing.assert_array_equal(a.estimator.labels_, c.estimator.labels_)


def test_bad_calls_are_refused():
    g = graph()
    with pytest.raises(GraphclInputError, match="homogeneous"):
        best_of_restarts("meow", g, 3)
    with pytest.raises(GraphclInputError):
        best_of_restarts("scgc_star", g, 3, criterion="accuracy")
    with pytest.raises(GraphclInputError, match="edge_index"):
        best_of_restarts("scgc_star", g.x, 3)
    with pytest.raises(GraphclInputError):
        best_of_restarts("scgc_star", g, 3, restarts=0)
