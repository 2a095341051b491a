"""Tests for graphcl.data.synthetic_hetero.planted_hetero_graph."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import HeteroData

from graphcl import GraphclInputError
from graphcl.data import metapath_adjacency, planted_hetero_graph
from graphcl.data.metapath_inputs import resolve_metapaths

ARGS = dict(num_targets=5000, n_clusters=5, num_features=8, sigma=0.5)
PA, AP = ("paper", "to", "author"), ("author", "to", "paper")
PV, VP = ("paper", "to", "venue"), ("venue", "to", "paper")


def planted_class(n: int, k: int) -> torch.Tensor:
    """The docstring's planted classes ``floor(j * K / n)`` of a context type."""
    return torch.div(torch.arange(n) * k, n, rounding_mode="floor")


@pytest.fixture(scope="module")
def graph() -> HeteroData:
    return planted_hetero_graph(**ARGS, seed=3)


def test_shapes_dtypes_schema_and_attributes(graph):
    n, k, d = ARGS["num_targets"], ARGS["n_clusters"], ARGS["num_features"]
    n_author, n_venue = round(n * 2 / 4.0), round(n / 50.0)
    assert set(graph.node_types) == {"paper", "author", "venue"}
    assert set(graph.edge_types) == {PA, AP, PV, VP}
    assert {t: graph[t].num_nodes for t in graph.node_types} == {"paper": n, "author": n_author, "venue": n_venue}
    for t, size in (("paper", n), ("author", n_author), ("venue", n_venue)):
        assert graph[t].x.dtype == torch.float32 and tuple(graph[t].x.shape) == (size, d)
    y = graph["paper"].y
    assert y.dtype == torch.long and torch.equal(y, planted_class(n, k))
    sizes = torch.bincount(y, minlength=k)
    assert int(sizes.max() - sizes.min()) <= 1
    for et in graph.edge_types:
        ei = graph[et].edge_index
        assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
        n_src, n_dst = graph[et[0]].num_nodes, graph[et[2]].num_nodes
        assert int(ei[0].min()) >= 0 and int(ei[0].max()) < n_src and int(ei[1].max()) < n_dst
        key = ei[0] * n_dst + ei[1]
        assert bool((key[1:] > key[:-1]).all())  # sorted by (src, dst), no duplicates
    assert graph.target_node_type == "paper"
    assert graph.num_classes == k and graph.name == "planted_hetero"
    assert graph.metapaths == {"PAP": [PA, AP], "PVP": [PV, VP]}
    assert resolve_metapaths(graph, None) == {"PAP": [PA, AP], "PVP": [PV, VP]}


def test_deterministic_for_a_seed():
    small = dict(ARGS, num_targets=600)
    a, b = planted_hetero_graph(**small, seed=7), planted_hetero_graph(**small, seed=7)
    c = planted_hetero_graph(**small, seed=8)
    for t in ("paper", "author", "venue"):
        assert torch.equal(a[t].x, b[t].x)
        assert not torch.equal(a[t].x, c[t].x)
    assert torch.equal(a["paper"].y, b["paper"].y)
    for et in (PA, AP, PV, VP):
        assert torch.equal(a[et].edge_index, b[et].edge_index)
    assert not torch.equal(a[PV].edge_index, c[PV].edge_index)
    assert a[PA].edge_index.shape != c[PA].edge_index.shape or not torch.equal(a[PA].edge_index, c[PA].edge_index)


@pytest.mark.parametrize("p_intra", [0.0, 0.5, 0.8, 1.0])
def test_intra_class_link_fraction_is_close_to_p_intra(p_intra):
    data = planted_hetero_graph(**{**ARGS, "p_intra": p_intra}, seed=1)
    y, k = data["paper"].y, ARGS["n_clusters"]
    for et in (PA, PV):
        ctx = planted_class(data[et[2]].num_nodes, k)
        src, dst = data[et].edge_index
        frac = float((y[src] == ctx[dst]).double().mean())
        assert abs(frac - p_intra) < 0.025, (et, frac)


def test_single_class_links_are_all_intra():
    data = planted_hetero_graph(200, 1, 4, 1.0, p_intra=0.0)
    assert bool((data["paper"].y == 0).all()) and data[PA].edge_index.size(1) > 0
    assert data["author"].num_nodes == 100 and data["venue"].num_nodes == 4


def test_degrees_and_reverse_edges(graph):
    n, a = ARGS["num_targets"], 2
    pv = graph[PV].edge_index
    assert torch.equal(pv[0], torch.arange(n))  # exactly one venue per paper
    n_authors = torch.bincount(graph[PA].edge_index[0], minlength=n)
    assert int(n_authors.min()) >= 1 and int(n_authors.max()) <= a
    assert int((n_authors == a).sum()) > 0.9 * n  # duplicates are rare
    for fwd, rev in ((PA, AP), (PV, VP)):
        ei, er = graph[fwd].edge_index, graph[rev].edge_index
        n_dst = graph[fwd[2]].num_nodes
        order = torch.argsort(er[1] * n_dst + er[0])
        assert torch.equal(er.flip(0)[:, order], ei)  # the reverse is the exact transpose
    five = planted_hetero_graph(**ARGS, authors_per_target=5, seed=3)
    deg5 = torch.bincount(five[PA].edge_index[0], minlength=n)
    assert int(deg5.min()) >= 1 and int(deg5.max()) == 5


def test_context_features_false_leaves_context_types_featureless(graph):
    bare = planted_hetero_graph(**ARGS, context_features=False, seed=3)
    assert "x" not in bare["author"] and "x" not in bare["venue"]
    assert bare["author"].num_nodes == graph["author"].num_nodes
    assert bare["venue"].num_nodes == graph["venue"].num_nodes
    # the papers, links and class means do not depend on context_features
    assert torch.equal(bare["paper"].x, graph["paper"].x)
    for et in (PA, AP, PV, VP):
        assert torch.equal(bare[et].edge_index, graph[et].edge_index)


def _nearest_mean_accuracy(x: torch.Tensor, y: torch.Tensor, k: int) -> float:
    means = torch.stack([x[y == c].mean(0) for c in range(k)])
    return float((torch.cdist(x, means).argmin(1) == y).double().mean())


def test_features_carry_the_classes():
    k = ARGS["n_clusters"]
    sharp = planted_hetero_graph(**{**ARGS, "sigma": 0.1}, mu_scale=3.0, seed=2)
    assert _nearest_mean_accuracy(sharp["paper"].x, sharp["paper"].y, k) > 0.95
    for t in ("author", "venue"):  # context features follow the context's planted class
        ctx = planted_class(sharp[t].num_nodes, k)
        assert _nearest_mean_accuracy(sharp[t].x, ctx, k) > 0.95
    assert float(sharp["paper"].x.std(0).mean()) > 1.0  # the class means spread the points
    noisy = planted_hetero_graph(**{**ARGS, "sigma": 100.0}, seed=2)
    # class means estimated on ~1000 points each in 8-d: near chance (1/k = 0.2), not near 1
    assert _nearest_mean_accuracy(noisy["paper"].x, noisy["paper"].y, k) < 0.35


def test_metapath_sizes_are_linear():
    n = ARGS["num_targets"]
    data = planted_hetero_graph(n, 5, 4, 1.0, seed=4)
    pap, _ = metapath_adjacency(data, "PAP")
    pvp, _ = metapath_adjacency(data, "PVP")
    # docstring: nnz(PAP) ~ N (1 + a t) = 9 N, nnz(PVP) ~ N (1 + v) = 51 N
    assert 0.85 * 9 * n <= pap.size(1) <= 1.1 * 9 * n
    assert 0.9 * 51 * n <= pvp.size(1) <= 1.1 * 51 * n
    sparse = planted_hetero_graph(n, 5, 4, 1.0, authors_per_target=3, targets_per_author=2.0,
                                  targets_per_venue=10.0, seed=4)
    assert 0.85 * 7 * n <= metapath_adjacency(sparse, "PAP")[0].size(1) <= 1.1 * 7 * n
    assert 0.9 * 11 * n <= metapath_adjacency(sparse, "PVP")[0].size(1) <= 1.1 * 11 * n


def test_meow_runs_end_to_end(one_thread):
    from graphcl.models import MEOW

    data = planted_hetero_graph(300, 3, 8, 0.5, seed=0)
    model = MEOW(3, num_prototypes=(6, 10), epochs=3, patience=None, embedding_dim=16).fit(data)
    assert model.embeddings_.shape == (300, 16)
    assert len(model.labels_) == 300 and set(model.labels_.tolist()) <= {0, 1, 2}
    assert model.n_epochs_ == 3
    bare = planted_hetero_graph(300, 3, 8, 0.5, context_features=False, seed=0)
    emb = MEOW(None, num_prototypes=(6,), epochs=2, patience=None, embedding_dim=16).fit(bare).embeddings_
    assert emb.shape == (300, 16)


@pytest.mark.parametrize(
    "override, match",
    [
        ({"num_targets": 0}, "num_targets"),
        ({"num_targets": 100.0}, "num_targets must be a positive integer"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 6000}, "n_clusters=6000 exceeds num_targets"),
        ({"num_features": 0}, "num_features"),
        ({"sigma": -0.1}, "sigma"),
        ({"sigma": float("inf")}, "sigma"),
        ({"authors_per_target": 0}, "authors_per_target"),
        ({"authors_per_target": 2.5}, "authors_per_target"),
        ({"targets_per_author": 0.0}, "targets_per_author"),
        ({"targets_per_author": 1e-12}, "targets_per_author is too small"),
        ({"targets_per_venue": -1.0}, "targets_per_venue"),
        ({"p_intra": 1.5}, "p_intra"),
        ({"p_intra": float("nan")}, "p_intra"),
        ({"context_features": "yes"}, "context_features"),
        ({"mu_scale": -1.0}, "mu_scale"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_argument_errors(override, match):
    with pytest.raises(GraphclInputError, match=match):
        planted_hetero_graph(**{**ARGS, **override})
