"""Tests for graphcl.metrics.structure (modularity, conductance)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphcl.errors import GraphclInputError
from graphcl.metrics import conductance, modularity


def undirected(edges, weights=None):
    """Both directions of each undirected edge (no self-loops), with matching weights."""
    e = torch.tensor(edges, dtype=torch.long).t()
    ei = torch.cat([e, e.flip(0)], dim=1)
    if weights is None:
        return ei, None
    w = torch.tensor(weights, dtype=torch.float)
    return ei, torch.cat([w, w])


# Two triangles {0,1,2} and {3,4,5} joined by the bridge 2-3.
TRIANGLES = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]
SPLIT = torch.tensor([0, 0, 0, 1, 1, 1])


# --------------------------------------------------------------------------- hand-worked values


def test_two_triangles_modularity_by_hand():
    # 7 undirected edges listed both ways: 2m = 14. Each triangle: w_in = 3 edges * 2 = 6,
    # vol = deg 2 + 2 + 3 = 7.  Q = 2 * (6/14 - (7/14)^2) = 6/7 - 1/2 = 5/14.
    ei, _ = undirected(TRIANGLES)
    assert modularity(ei, SPLIT) == pytest.approx(5 / 14)
    # one cluster: Q = 14/14 - (14/14)^2 = 0
    assert modularity(ei, torch.zeros(6, dtype=torch.long)) == pytest.approx(0.0)
    # singletons: w_in = 0, Q = -(4 * 2^2 + 2 * 3^2) / 14^2 = -34/196 = -17/98
    assert modularity(ei, torch.arange(6)) == pytest.approx(-17 / 98)
    # cluster ids need not be contiguous
    assert modularity(ei, SPLIT * 5 + 2) == pytest.approx(5 / 14)


def test_two_triangles_conductance_by_hand():
    # Each triangle: cut = 1 (the bridge), vol = 7, vol(rest) = 14 - 7 = 7 -> phi = 1/7.
    ei, _ = undirected(TRIANGLES)
    assert conductance(ei, SPLIT) == pytest.approx(1 / 7)
    per = conductance(ei, SPLIT, reduce="none")
    assert isinstance(per, torch.Tensor) and per.shape == (2,)
    torch.testing.assert_close(per, torch.tensor([1 / 7, 1 / 7], dtype=torch.float64))
    # one cluster: vol(V \ S) = 0 -> denominator 0 -> defined as 0
    assert conductance(ei, torch.zeros(6, dtype=torch.long)) == 0.0
    # {0} alone: cut = 2, vol = 2, rest = 12 -> 1;  {1,2,3,4,5}: cut 2, vol 12, rest 2 -> 1
    assert conductance(ei, torch.tensor([0, 1, 1, 1, 1, 1]), reduce="none").tolist() == pytest.approx([1.0, 1.0])


def test_weighted_by_hand():
    # Bridge weight 3, triangle edges 1: 2m = 2 * (6 + 3) = 18; vol = 6 + 3 = 9 per triangle,
    # w_in = 6.  Q = 2 * (6/18 - (9/18)^2) = 2/3 - 1/2 = 1/6.  phi = 3 / min(9, 9) = 1/3.
    ei, w = undirected(TRIANGLES, [1, 1, 1, 1, 1, 1, 3])
    assert modularity(ei, SPLIT, edge_weight=w) == pytest.approx(1 / 6)
    assert conductance(ei, SPLIT, edge_weight=w) == pytest.approx(1 / 3)
    # unit weights reproduce the unweighted values; double weights change nothing (scale-free)
    ones = torch.ones(ei.size(1))
    assert modularity(ei, SPLIT, edge_weight=ones) == pytest.approx(5 / 14)
    assert modularity(ei, SPLIT, edge_weight=2 * w) == pytest.approx(1 / 6)
    assert conductance(ei, SPLIT, edge_weight=2 * w) == pytest.approx(1 / 3)
    # integer weights are accepted
    assert modularity(ei, SPLIT, edge_weight=w.long()) == pytest.approx(1 / 6)


def test_isolated_nodes():
    ei, _ = undirected(TRIANGLES)
    # node 6 is isolated, in its own cluster: vol 0 -> contributes 0 to Q; phi = 0 (denominator 0)
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2])
    assert modularity(ei, labels) == pytest.approx(5 / 14)
    assert modularity(ei, labels, num_nodes=7) == pytest.approx(5 / 14)
    per = conductance(ei, labels, reduce="none")
    assert per.tolist() == pytest.approx([1 / 7, 1 / 7, 0.0])
    assert conductance(ei, labels) == pytest.approx(2 / 21)  # mean over 3 non-empty clusters
    # isolated node inside a triangle's cluster: nothing changes
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 0])
    assert modularity(ei, labels) == pytest.approx(5 / 14)
    assert conductance(ei, labels) == pytest.approx(1 / 7)


def test_empty_cluster_ids_skipped_in_mean():
    ei, _ = undirected(TRIANGLES)
    labels = torch.tensor([0, 0, 0, 2, 2, 2])  # id 1 unused
    per = conductance(ei, labels, reduce="none")
    assert per.tolist() == pytest.approx([1 / 7, 0.0, 1 / 7])
    assert conductance(ei, labels) == pytest.approx(1 / 7)
    assert modularity(ei, labels) == pytest.approx(5 / 14)


def test_no_edges():
    ei = torch.empty(2, 0, dtype=torch.long)
    labels = torch.tensor([0, 1, 1])
    assert modularity(ei, labels) == 0.0
    assert conductance(ei, labels) == 0.0


def test_inputs_not_mutated_and_list_labels():
    ei, w = undirected(TRIANGLES, [1, 2, 1, 1, 1, 1, 3])
    ei0, w0, lab0 = ei.clone(), w.clone(), SPLIT.clone()
    a = modularity(ei, SPLIT, edge_weight=w)
    conductance(ei, SPLIT, edge_weight=w, reduce="none")
    assert torch.equal(ei, ei0) and torch.equal(w, w0) and torch.equal(SPLIT, lab0)
    assert modularity(ei, SPLIT.tolist(), edge_weight=w) == pytest.approx(a)
    assert modularity(ei, SPLIT.numpy(), edge_weight=w) == pytest.approx(a)


# --------------------------------------------------------------------------- networkx agreement


def random_graph(seed, n=30, p=0.15, weighted=False):
    g = torch.Generator().manual_seed(seed)
    iu = torch.triu_indices(n, n, offset=1)
    keep = torch.rand(iu.size(1), generator=g) < p
    edges = iu[:, keep].t().tolist()
    weights = (torch.rand(len(edges), generator=g) * 3 + 0.1).tolist() if weighted else None
    labels = torch.randint(0, 4, (n,), generator=g)
    return n, edges, weights, labels


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_networkx_agreement(seed, weighted):
    nx = pytest.importorskip("networkx")
    n, edges, weights, labels = random_graph(seed, weighted=weighted)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    if weighted:
        G.add_weighted_edges_from([(u, v, w) for (u, v), w in zip(edges, weights)])
    else:
        G.add_edges_from(edges)
    ei, w = undirected(edges, weights)
    comms = [set(np.flatnonzero(labels.numpy() == c).tolist()) for c in labels.unique().tolist()]
    expected_q = nx.algorithms.community.modularity(G, comms, weight="weight")
    assert modularity(ei, labels, edge_weight=w) == pytest.approx(expected_q, abs=1e-6)

    per = conductance(ei, labels, edge_weight=w, reduce="none")
    total = 2 * G.size(weight="weight")
    for c, S in zip(labels.unique().tolist(), comms):
        vol = nx.volume(G, S, weight="weight")
        if min(vol, total - vol) == 0:
            assert float(per[c]) == 0.0
        else:
            assert float(per[c]) == pytest.approx(nx.conductance(G, S, weight="weight"), abs=1e-6)


def test_dense_reference_modularity():
    # Independent dense formula Q = (1/2m) sum_ij [A_ij - k_i k_j / 2m] delta(c_i, c_j).
    n, edges, weights, labels = random_graph(7, n=20, p=0.3, weighted=True)
    ei, w = undirected(edges, weights)
    A = torch.zeros(n, n, dtype=torch.float64)
    A[ei[0], ei[1]] = w.double()
    k = A.sum(1)
    two_m = A.sum()
    delta = (labels[:, None] == labels[None, :]).double()
    q = ((A - torch.outer(k, k) / two_m) * delta).sum() / two_m
    assert modularity(ei, labels, edge_weight=w) == pytest.approx(float(q), abs=1e-9)


# --------------------------------------------------------------------------- errors


def test_errors():
    ei, _ = undirected(TRIANGLES)
    with pytest.raises(GraphclInputError, match="num_nodes"):
        modularity(ei, SPLIT, num_nodes=7)
    with pytest.raises(GraphclInputError, match="edge_index"):
        modularity(ei, SPLIT[:5])  # node 5 out of range for 5 nodes
    with pytest.raises(GraphclInputError, match="edge_index"):
        conductance(ei[:1], SPLIT)
    with pytest.raises(GraphclInputError, match="edge_index"):
        conductance(ei.float(), SPLIT)
    with pytest.raises(GraphclInputError, match="edge_weight"):
        modularity(ei, SPLIT, edge_weight=torch.ones(3))
    with pytest.raises(GraphclInputError, match="edge_weight"):
        modularity(ei, SPLIT, edge_weight=-torch.ones(ei.size(1)))
    with pytest.raises(GraphclInputError, match="labels"):
        modularity(ei, SPLIT.float())
    with pytest.raises(GraphclInputError, match="labels"):
        modularity(ei, SPLIT.view(2, 3))
    with pytest.raises(GraphclInputError, match="labels"):
        conductance(ei, SPLIT - 1)
    with pytest.raises(GraphclInputError, match="labels"):
        conductance(torch.empty(2, 0, dtype=torch.long), torch.empty(0, dtype=torch.long))
    with pytest.raises(GraphclInputError, match="reduce"):
        conductance(ei, SPLIT, reduce="sum")
