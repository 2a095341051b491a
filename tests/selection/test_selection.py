"""Label-free selection: the grid, the scores, never reading labels."""

import numpy as np
import pytest
import torch

from graphcl.data import planted_partition_graph
from graphcl.errors import GraphclInputError
from graphcl.selection import clustering_scores, select

SMALL = dict(hidden_channels=(16,), embedding_dim=4, pretrain_epochs=3, epochs=4, cache=False, kmeans_n_init=2)


def graph(seed=0):
    return planted_partition_graph(150, 3, avg_degree=6.0, p_intra=0.9, num_features=8, sigma=2.0, seed=seed)


def test_scores_of_a_perfect_and_a_random_clustering():
    g = graph()
    emb = torch.nn.functional.one_hot(g.y, 3).float().numpy() + 0.01
    good = clustering_scores(g.edge_index, None, g.y.numpy(), emb)
    bad = clustering_scores(g.edge_index, None, np.random.default_rng(0).integers(0, 3, 150), emb)
    assert good["modularity"] > bad["modularity"] + 0.3
    assert good["conductance"] < bad["conductance"] - 0.3
    assert good["silhouette"] > bad["silhouette"]
    one = clustering_scores(g.edge_index, None, np.zeros(150, dtype=int), emb)
    assert one["silhouette"] == -1.0


def test_silhouette_is_scikit_learns_on_its_sample_and_never_raises_on_a_tiny_cluster():
    from sklearn.metrics import silhouette_score

    g = graph()
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(150, 4))
    labels = rng.integers(0, 3, 150)
    got = clustering_scores(g.edge_index, None, labels, emb, silhouette_sample=60, random_state=7)["silhouette"]
    assert got == pytest.approx(silhouette_score(emb, labels, metric="cosine", sample_size=60, random_state=7))
    # a collapsed run: one node in its own cluster, which the 20-node sample misses (scikit-learn
    # raised "Number of labels is 1" on such a sample and ended a PamC run)
    tiny = np.zeros(150, dtype=int)
    sample = np.random.RandomState(0).permutation(150)[:20]
    tiny[np.setdiff1d(np.arange(150), sample)[0]] = 1
    assert clustering_scores(g.edge_index, None, tiny, emb, silhouette_sample=20, random_state=0)["silhouette"] == -1.0


@pytest.mark.parametrize("method", ["scgc_star", "pamc"])
def test_select_fits_six_points_and_records_every_score(method, one_thread):
    g = graph()
    res = select(method, g, 3, params=SMALL)
    assert len(res.grid) == 6 and sum(r["chosen"] for r in res.grid) == 1
    assert {(r["input_hops"], r["order"]) for r in res.grid[:4]} == {(0, 1), (0, 3), (2, 1), (2, 3)}
    assert res.criterion == "silhouette"  # the default
    stage1 = max(res.grid[:4], key=lambda r: r["silhouette"])
    chosen = next(r for r in res.grid if r["chosen"])
    assert chosen["silhouette"] == max([stage1["silhouette"]] + [r["silhouette"] for r in res.grid[4:]])
    assert {r["temperature"] for r in res.grid[4:]} == {stage1["temperature"] * 0.5, stage1["temperature"] * 2.0}
    assert res.estimator.labels_.shape == (150,) and res.choice == {k: chosen[k] for k in ("input_hops", "order", "temperature")}
    for row in res.grid:
        assert set(row) >= {"modularity", "conductance", "silhouette", "n_predicted_clusters", "fit_seconds"}
    assert len(res.grid_labels) == 6 and "grid_labels" not in res.summary()
    np.testing.assert_array_equal(res.grid_labels[[r["chosen"] for r in res.grid].index(True)], res.estimator.labels_)
    for row, labels in zip(res.grid, res.grid_labels):
        assert row["n_predicted_clusters"] == len(np.unique(labels))


def test_selection_never_reads_labels(one_thread):
    g = graph(1)
    a = select("scgc_star", g, 3, params=SMALL, criterion="conductance")
    permuted = g.clone()
    permuted.y = permuted.y[torch.randperm(150)]
    b = select("scgc_star", permuted, 3, params=SMALL, criterion="conductance")
    deleted = g.clone()
    del deleted.y
    c = select("scgc_star", deleted, 3, params=SMALL, criterion="conductance")
    assert a.choice == b.choice == c.choice
    np.testing.assert_array_equal(a.estimator.labels_, b.estimator.labels_)
    np.testing.assert_array_equal(a.estimator.labels_, c.estimator.labels_)
    assert [r["conductance"] for r in a.grid] == [r["conductance"] for r in c.grid]


def test_consensus_combines_the_same_grid_and_never_reads_labels(one_thread):
    from graphcl.cluster import consensus_clustering

    g = graph(2)
    best = select("scgc_star", g, 3, params=SMALL, combine="best")
    res = select("scgc_star", g, 3, params=SMALL)  # the default
    # the same fits, scores and choice as combine="best"; only the pipeline's clustering differs
    assert res.choice == best.choice and [r["silhouette"] for r in res.grid] == [r["silhouette"] for r in best.grid]
    for a, b in zip(res.grid_labels, best.grid_labels):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(best.labels, best.estimator.labels_)
    assert best.consensus_labels is None and best.summary()["combine"] == "best" and "consensus" not in best.summary()
    np.testing.assert_array_equal(res.labels, consensus_clustering(res.grid_labels, 3, 0, SMALL["kmeans_n_init"]))
    summary = res.summary()
    assert summary["combine"] == "consensus" and summary["consensus"]["members"] == 6
    assert summary["consensus"]["n_predicted_clusters"] == len(np.unique(res.labels))
    assert len(summary["consensus"]["member_nmi"]) == 6 and all(0.0 <= v <= 1.0 for v in summary["consensus"]["member_nmi"])
    permuted = g.clone()
    permuted.y = permuted.y[torch.randperm(150)]
    deleted = g.clone()
    del deleted.y
    for other in (permuted, deleted):
        np.testing.assert_array_equal(select("scgc_star", other, 3, params=SMALL, combine="consensus").labels, res.labels)


def test_restarts_fit_the_grid_from_each_seed_and_combine_all_of_them(one_thread):
    from graphcl.cluster import consensus_clustering

    g = graph(3)
    res = select("scgc_star", g, 3, params=SMALL, restarts=2, random_state=1)
    assert res.restarts == 2 and len(res.grid) == 12 and [r["seed"] for r in res.grid] == [2] * 6 + [3] * 6
    # each restart is the one-seed pipeline from its seed (graphcl.restarts' seeds: 1 * 2 + i)
    picks = []
    for i, seed in enumerate((2, 3)):
        one = select("scgc_star", g, 3, params=SMALL, random_state=seed)
        picks.append(next(r for r in one.grid if r["chosen"])["silhouette"])
        assert "seed" not in one.grid[0] and one.summary()["restarts"] == 1
        rows = res.grid[6 * i: 6 * i + 6]
        assert [{k: v for k, v in r.items() if k not in ("seed", "chosen", "fit_seconds")} for r in rows] == \
            [{k: v for k, v in r.items() if k not in ("chosen", "fit_seconds")} for r in one.grid]
        for a, b in zip(res.grid_labels[6 * i: 6 * i + 6], one.grid_labels):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(res.labels, consensus_clustering(res.grid_labels, 3, 1, SMALL["kmeans_n_init"]))
    chosen = next(r for r in res.grid if r["chosen"])
    assert sum(r["chosen"] for r in res.grid) == 1 and res.choice["seed"] == chosen["seed"]
    assert chosen["silhouette"] == max(picks)  # the best of the restarts' own choices
    assert res.summary()["restarts"] == 2 and res.summary()["consensus"]["members"] == 12
    with pytest.raises(GraphclInputError, match="restarts"):
        select("scgc_star", g, 3, params=SMALL, restarts=0)


def test_bad_selection_arguments():
    g = graph()
    with pytest.raises(GraphclInputError, match="combine must be one of"):
        select("pamc", g, 3, combine="vote")
    with pytest.raises(GraphclInputError, match="criterion must be one of"):
        select("pamc", g, 3, criterion="acc")
    with pytest.raises(GraphclInputError, match="select works on homogeneous methods"):
        select("meow", g, 3)
    with pytest.raises(GraphclInputError, match="'spectral' .SmoothedSpectral. has no order or temperature"):
        select("spectral", g, 3)  # nothing to search: refused before any fit
    with pytest.raises(GraphclInputError, match=r"grid keys \['lr'\] are unknown"):
        select("pamc", g, 3, grid={"lr": [1e-3]})
    with pytest.raises(GraphclInputError, match=r"grid\['order'\]\[0\] must be a positive integer"):
        select("pamc", g, 3, grid={"order": [0]})
    with pytest.raises(GraphclInputError, match="max_positives"):
        select("pamc", g, 3, max_positives=0)


def test_orders_with_too_many_positives_are_skipped_and_recorded(one_thread):
    from graphcl.models import SCGCStar

    g = graph()
    pairs = {r: SCGCStar(3, order=r).positive_weights(g.edge_index, None, 150)[0].size(1) for r in (1, 3)}
    cap = (pairs[1] + pairs[3]) / 2 / 150  # between the two orders' mean positives per node
    res = select("scgc_star", g, 3, params=SMALL, max_positives=cap)
    assert [(r["input_hops"], r["order"]) for r in res.grid[:2]] == [(0, 1), (2, 1)]
    assert len(res.grid) == 4 and all(r["order"] == 1 for r in res.grid)
    assert res.skipped == [{"order": 3, "positive_pairs": pairs[3], "positives_per_node": pairs[3] / 150,
                            "max_positives": cap}]
    assert res.summary()["skipped"] == res.skipped
    # the grid's smallest order is always fitted, however low the cap; None fits every order
    assert {r["order"] for r in select("scgc_star", g, 3, params=SMALL, max_positives=1e-6,
                                       grid={"order": [3, 2], "input_hops": [0], "temperature_scale": [1.0]}).grid} == {2}
    assert select("scgc_star", g, 3, params=SMALL, max_positives=None,
                  grid={"input_hops": [0], "temperature_scale": [1.0]}).skipped == []


def test_modularity_gain_is_the_modularity_over_kmeans_on_the_input(one_thread):
    from torch_geometric.utils import to_undirected

    from graphcl.cluster import kmeans
    from graphcl.metrics import modularity
    from graphcl.ops import smooth_features

    g = graph(2)
    res = select("scgc_star", g, 3, params=SMALL, criterion="modularity_gain",
                 grid={"order": [1], "temperature_scale": [1.0]})
    ei = to_undirected(g.edge_index, num_nodes=150)
    for row in res.grid:
        x = g.x if row["input_hops"] == 0 else smooth_features(g.x, g.edge_index, hops=row["input_hops"])
        _, labels = kmeans(x, 3, random_state=0, n_init=SMALL["kmeans_n_init"])
        assert row["input_modularity"] == pytest.approx(modularity(ei, labels, None, 150))
        assert row["modularity_gain"] == pytest.approx(row["modularity"] - row["input_modularity"])
    chosen = next(r for r in res.grid if r["chosen"])
    assert chosen["modularity_gain"] == max(r["modularity_gain"] for r in res.grid)
    # recorded whatever the criterion
    assert all("modularity_gain" in r for r in select("pamc", g, 3, params=SMALL, grid={"order": [1]}).grid)
