"""Tests for graphcl.data.synthetic.planted_partition_graph."""

from __future__ import annotations

import time

import pytest
import torch
from torch_geometric.utils import to_undirected

from graphcl import GraphclInputError
from graphcl.data import planted_partition_graph

ARGS = dict(num_nodes=3001, n_clusters=7, avg_degree=8.0, p_intra=0.8, num_features=16, sigma=0.5)


def test_deterministic_for_a_seed():
    a = planted_partition_graph(**ARGS, seed=5)
    b = planted_partition_graph(**ARGS, seed=5)
    c = planted_partition_graph(**ARGS, seed=6)
    for key in ("x", "edge_index", "y"):
        assert torch.equal(a[key], b[key])
    assert not torch.equal(a.x, c.x)
    assert a.edge_index.shape != c.edge_index.shape or not torch.equal(a.edge_index, c.edge_index)


def test_sizes_labels_and_graph_conventions():
    data = planted_partition_graph(**ARGS)
    n, k = ARGS["num_nodes"], ARGS["n_clusters"]
    assert data.x.dtype == torch.float32 and tuple(data.x.shape) == (n, 16)
    assert data.y.dtype == torch.long and data.num_classes == k
    sizes = torch.bincount(data.y, minlength=k)
    assert int(sizes.max() - sizes.min()) <= 1 and int(sizes.sum()) == n
    ei = data.edge_index
    assert not bool((ei[0] == ei[1]).any())
    assert torch.equal(to_undirected(ei, num_nodes=n), ei)  # undirected and coalesced
    target = n * ARGS["avg_degree"] / 2
    assert 0.97 * target <= ei.size(1) / 2 <= target


@pytest.mark.parametrize("p_intra", [0.0, 0.3, 0.9, 1.0])
def test_intra_block_fraction_is_close_to_p_intra(p_intra):
    data = planted_partition_graph(20000, 5, 10.0, p_intra, 2, 1.0, seed=1)
    row, col = data.edge_index
    frac = float((data.y[row] == data.y[col]).float().mean())
    assert abs(frac - p_intra) < 0.01


def test_features_are_class_means_plus_noise():
    data = planted_partition_graph(4000, 4, 2.0, 0.5, 8, sigma=0.1, seed=2, mu_scale=3.0)
    means = torch.stack([data.x[data.y == c].mean(0) for c in range(4)])
    spread = torch.stack([data.x[data.y == c].std(0).mean() for c in range(4)])
    assert torch.allclose(spread, torch.full((4,), 0.1), atol=0.01)
    assert float(torch.cdist(means, means).add(torch.eye(4) * 1e9).min()) > 1.0
    flat = planted_partition_graph(4000, 4, 2.0, 0.5, 8, sigma=1.0, seed=2, mu_scale=0.0)
    assert float(flat.x.mean(0).abs().max()) < 0.1


def test_single_block_and_no_edges():
    one = planted_partition_graph(50, 1, 4.0, 0.0, 3, 1.0)
    assert bool((one.y == 0).all()) and one.edge_index.size(1) > 0
    empty = planted_partition_graph(50, 5, 0.0, 0.5, 3, 1.0)
    assert empty.edge_index.shape == (2, 0)


def test_hundred_thousand_nodes_quickly():
    start = time.perf_counter()
    data = planted_partition_graph(100_000, 10, 10.0, 0.8, 32, 1.0, seed=0)
    elapsed = time.perf_counter() - start
    assert data.num_nodes == 100_000 and data.edge_index.size(1) > 900_000
    assert elapsed < 10.0, f"took {elapsed:.1f}s"  # about 0.5 s on 2 idle cores


@pytest.mark.parametrize(
    "override, match",
    [
        ({"num_nodes": 0}, "num_nodes"),
        ({"num_nodes": 10.0}, "num_nodes must be a positive integer"),
        ({"n_clusters": 4000}, "n_clusters"),
        ({"n_clusters": 0}, "n_clusters"),
        ({"avg_degree": -1.0}, "avg_degree"),
        ({"p_intra": 1.5}, "p_intra"),
        ({"p_intra": float("nan")}, "p_intra"),
        ({"num_features": 0}, "num_features"),
        ({"sigma": -0.1}, "sigma"),
    ],
)
def test_argument_errors(override, match):
    with pytest.raises(GraphclInputError, match=match):
        planted_partition_graph(**{**ARGS, **override})

