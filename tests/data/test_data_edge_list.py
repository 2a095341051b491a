"""Tests for graphcl.data.edge_list.from_edge_list."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.utils import to_undirected

from graphcl import GraphclInputError
from graphcl.data import from_edge_list

X = torch.arange(12, dtype=torch.float32).reshape(4, 3)


def _pairs(data) -> list[tuple[int, int]]:
    return list(map(tuple, data.edge_index.t().tolist()))


@pytest.mark.parametrize(
    "edges",
    [
        [[0, 1], [1, 2], [2, 3]],  # python list [E, 2]
        np.array([[0, 1, 2], [1, 2, 3]]),  # numpy [2, E]
        torch.tensor([[0, 1], [1, 2], [2, 3]]),  # torch [E, 2]
        torch.tensor([[0, 1, 2], [1, 2, 3]], dtype=torch.int32),  # torch [2, E], int32
    ],
)
def test_accepts_lists_arrays_tensors_in_both_layouts(edges):
    data = from_edge_list(X, edges)
    assert data.edge_index.dtype == torch.long
    assert _pairs(data) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    assert data.num_nodes == 4 and torch.equal(data.x, X)
    assert "edge_weight" not in data


def test_two_by_two_input_follows_the_convention_of_its_type():
    # lists / numpy arrays are lists of pairs [E, 2]; torch tensors are edge_index [2, E]
    pairs = [[0, 2], [1, 3]]
    assert _pairs(from_edge_list(X, pairs, undirected=False)) == [(0, 2), (1, 3)]
    assert _pairs(from_edge_list(X, np.array(pairs), undirected=False)) == [(0, 2), (1, 3)]
    assert _pairs(from_edge_list(X, torch.tensor(pairs), undirected=False)) == [(0, 1), (2, 3)]


def test_symmetrises_with_max_weight_and_coalesces_duplicates():
    edges = [[0, 1], [1, 0], [2, 3], [2, 3], [3, 0]]
    w = [1.0, 3.0, 0.5, 2.0, 0.0]
    data = from_edge_list(X, edges, edge_weight=w)
    got = dict(zip(_pairs(data), data.edge_weight.tolist()))
    assert got == {
        (0, 1): 3.0, (1, 0): 3.0,  # max(A, A^T)
        (2, 3): 2.0, (3, 2): 2.0,  # duplicates merged with max
        (0, 3): 0.0, (3, 0): 0.0,  # zero-weight edges are kept
    }
    assert torch.equal(to_undirected(data.edge_index, num_nodes=4), data.edge_index)


def test_directed_mode_keeps_direction():
    data = from_edge_list(X, [[0, 1], [0, 1], [2, 1]], undirected=False)
    assert _pairs(data) == [(0, 1), (2, 1)]


def test_self_loops_dropped_by_default_and_kept_on_request():
    edges = [[0, 0], [0, 1], [2, 2]]
    assert _pairs(from_edge_list(X, edges)) == [(0, 1), (1, 0)]
    kept = from_edge_list(X, edges, edge_weight=[2.0, 1.0, 1.0], remove_self_loops=False)
    assert _pairs(kept) == [(0, 0), (0, 1), (1, 0), (2, 2)]
    assert kept.edge_weight.tolist() == [2.0, 1.0, 1.0, 1.0]


def test_isolated_nodes_empty_edges_and_featureless_graphs():
    data = from_edge_list(X, np.zeros((0, 2), dtype=np.int64))
    assert data.edge_index.shape == (2, 0) and data.num_nodes == 4
    assert from_edge_list(X, []).edge_index.shape == (2, 0)
    g = from_edge_list(None, [[0, 4]], num_nodes=6, y=[0, 1, 0, 1, 0, 1])
    assert g.num_nodes == 6 and g.x is None and g.y.dtype == torch.long
    assert from_edge_list(np.ones((4, 2), dtype=np.int64), [[0, 1]]).x.dtype == torch.float32


@pytest.mark.parametrize(
    "x, edges, kwargs, match",
    [
        (X, [[0, 1, 2], [1, 2, 3], [2, 3, 0]], {}, r"shape \[num_edges, 2\]"),
        (X, [0, 1, 2], {}, r"shape \[num_edges, 2\]"),
        (X, [[0.0, 1.0], [1.0, 2.0]], {}, "integers"),
        (X, [[0, -1], [1, 2]], {}, "negative"),
        (X, [[0, 4], [1, 2]], {}, "out of range"),
        (X, [[0, 1], [1]], {}, "edges"),
        (X, [["a", "b"]], {}, "numeric"),
        (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), [[0, 1]], {}, "NaN"),
        (torch.ones(4), [[0, 1]], {}, "2-D"),
        (X, [[0, 1], [1, 2]], {"edge_weight": [1.0]}, "edge_weight"),
        (X, [[0, 1], [1, 2]], {"edge_weight": [1.0, -2.0]}, "negative"),
        (X, [[0, 1], [1, 2]], {"edge_weight": [1.0, float("inf")]}, "NaN or Inf"),
        (X, [[0, 1]], {"num_nodes": 5}, "num_nodes"),
        (None, [[0, 1]], {}, "num_nodes is required"),
        (X, [[0, 1]], {"y": [0.5, 1, 0, 0]}, "integer labels"),
        (X, [[0, 1]], {"y": [0, 1]}, "y must have shape"),
    ],
)
def test_errors_name_the_problem(x, edges, kwargs, match):
    with pytest.raises(GraphclInputError, match=match):
        from_edge_list(x, edges, **kwargs)


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(1, 12),
    raw=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=40),
)
def test_output_is_the_symmetric_closure_without_loops(n, raw):
    pairs = [(i % n, j % n) for i, j in raw]
    data = from_edge_list(torch.zeros(n, 2), np.array(pairs, dtype=np.int64).reshape(-1, 2))
    expected = {(i, j) for i, j in pairs if i != j} | {(j, i) for i, j in pairs if i != j}
    got = _pairs(data)
    assert got == sorted(expected)  # coalesced: sorted, unique
