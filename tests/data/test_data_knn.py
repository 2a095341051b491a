"""Tests for graphcl.data.knn (SDCN's kNN graph recipe)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.utils import to_undirected

from graphcl import GraphclInputError
from graphcl.data import default_data_root, knn_graph_from_features, load_dataset


@pytest.fixture(scope="module")
def usps(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHCL_CACHE", str(tmp_path_factory.mktemp("graphcl_cache")))
        mp.delenv("GRAPHCL_DATA", raising=False)
        return load_dataset("usps")


def _dense_reference(x: np.ndarray, k: int, metric: str) -> np.ndarray:
    """SDCN calcu_graph.py written densely: similarity matrix, self excluded, top-k scores."""
    x = x.astype(np.float64)
    if metric == "heat":
        d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        sim = np.exp(-0.5 * d2)
    else:
        b = (x > 0).astype(np.float64)
        if metric == "ncos":
            b = b / np.maximum(b.sum(1, keepdims=True), 1.0)
        sim = b @ b.T
    np.fill_diagonal(sim, -np.inf)
    return sim, np.sort(sim, axis=1)[:, ::-1][:, :k]


def test_reproduces_sdcn_usps3_graph_exactly(usps):
    """With k=3 and the heat kernel, the USPS features give SDCN's usps3_graph.txt."""
    ref = np.loadtxt(default_data_root() / "sdcn_usps" / "usps3_graph.txt", dtype=np.int64)
    edge_index = knn_graph_from_features(usps.x, k=3, metric="heat")
    n = usps.num_nodes
    assert tuple(edge_index.shape) == (2, 3 * n) and edge_index.dtype == torch.long
    assert torch.equal(edge_index[0], torch.arange(n).repeat_interleave(3))
    got = set(map(tuple, edge_index.t().tolist()))
    assert got == set(map(tuple, ref.tolist()))
    # the symmetrised version is exactly the graph load_dataset("usps") returns
    sym = to_undirected(edge_index, num_nodes=n)
    assert torch.equal(sym, usps.edge_index)


@pytest.mark.parametrize("metric", ["heat", "cos", "ncos"])
@pytest.mark.parametrize("k", [1, 4])
def test_matches_dense_reference(metric, k):
    gen = torch.Generator().manual_seed(3)
    if metric == "heat":
        x = torch.randn(57, 6, generator=gen)
    else:
        x = (torch.rand(57, 20, generator=gen) < 0.3).float() * torch.rand(57, 20, generator=gen)
    edge_index = knn_graph_from_features(x, k=k, metric=metric, block_size=10)
    sim, top = _dense_reference(x.numpy(), k, metric)
    row, col = edge_index.numpy()
    assert not (row == col).any()
    assert (np.bincount(row, minlength=57) == k).all()
    # tie-robust: the chosen neighbours carry exactly the k best scores, best first
    chosen = sim[row, col].reshape(57, k)
    np.testing.assert_allclose(chosen, top, rtol=0, atol=1e-12)


def test_block_size_does_not_change_the_result():
    x = torch.randn(101, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = knn_graph_from_features(x, k=5)
    for bs in (1, 7, 100, 101, 500):
        assert torch.equal(knn_graph_from_features(x, k=5, block_size=bs), ref)
    assert torch.equal(knn_graph_from_features(x.numpy(), k=5), ref)  # numpy input


def test_symmetrize_gives_undirected_max_graph():
    x = torch.randn(40, 3, generator=torch.Generator().manual_seed(1))
    directed = knn_graph_from_features(x, k=2)
    sym = knn_graph_from_features(x, k=2, symmetrize=True)
    assert not bool((sym[0] == sym[1]).any())
    assert torch.equal(to_undirected(sym, num_nodes=40), sym)
    d = set(map(tuple, directed.t().tolist()))
    assert set(map(tuple, sym.t().tolist())) == d | {(j, i) for i, j in d}


def test_duplicate_rows_never_yield_self_edges():
    x = torch.zeros(6, 2)  # all rows identical: every pair ties at distance 0
    edge_index = knn_graph_from_features(x, k=3)
    assert not bool((edge_index[0] == edge_index[1]).any())
    assert edge_index.size(1) == 18


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k": 0}, "k must"),
        ({"k": 10}, "k must"),
        ({"k": 2.0}, "k must be an integer"),
        ({"metric": "euclid"}, "metric"),
        ({"block_size": 0}, "block_size"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(GraphclInputError, match=match):
        knn_graph_from_features(torch.randn(10, 3), **kwargs)


def test_feature_errors():
    with pytest.raises(GraphclInputError, match="2-D"):
        knn_graph_from_features(torch.randn(10))
    x = torch.randn(10, 3)
    x[4, 1] = float("nan")
    with pytest.raises(GraphclInputError, match="NaN"):
        knn_graph_from_features(x)
