"""Label-free features of featureless node types: neighbour-set sketches and meta-path SVD features."""

import pytest
import torch
from torch_geometric.data import HeteroData

from graphcl.data.graph_features import metapath_svd_features, neighbour_sketch_features
from graphcl.errors import GraphclInputError


def tiny():
    data = HeteroData()
    data["paper"].num_nodes = 5
    data["author"].num_nodes = 4
    data["venue"].num_nodes = 2
    pa = torch.tensor([[0, 0, 1, 1, 2, 3], [0, 1, 0, 1, 2, 3]])  # papers 0 and 1 share both authors; 4 has none
    pv = torch.tensor([[0, 1, 2, 3, 4], [0, 0, 1, 1, 1]])
    data["paper", "to", "author"].edge_index = pa
    data["author", "to", "paper"].edge_index = pa.flip(0)
    data["paper", "to", "venue"].edge_index = pv
    data["venue", "to", "paper"].edge_index = pv.flip(0)
    return data


def test_sketch_layout_determinism_and_isolated_nodes():
    data = tiny()
    x = neighbour_sketch_features(data, "paper", dim=8, seed=3)
    assert x.shape == (5, 16) and x.dtype == torch.float32  # blocks: (paper,to,author), (paper,to,venue)
    assert torch.equal(x, neighbour_sketch_features(data, "paper", dim=8, seed=3))
    assert not torch.equal(x, neighbour_sketch_features(data, "paper", dim=8, seed=4))
    assert torch.equal(x[0], x[1])  # identical neighbour sets -> identical sketches
    assert torch.all(x[4, :8] == 0) and torch.any(x[4, 8:] != 0)  # no author; a venue
    assert neighbour_sketch_features(data, "author", dim=8).shape == (4, 8)


def test_sketch_inner_products_estimate_the_cosine_of_neighbour_sets():
    g = torch.Generator().manual_seed(0)
    n_p, n_a = 40, 30
    adj = (torch.rand(n_p, n_a, generator=g) < 0.2)
    adj[:, 0] = True  # every paper has an author
    src, dst = adj.nonzero(as_tuple=True)
    data = HeteroData()
    data["paper"].num_nodes, data["author"].num_nodes = n_p, n_a
    data["paper", "to", "author"].edge_index = torch.stack([src, dst])
    dim = 20000
    x = neighbour_sketch_features(data, "paper", dim=dim, seed=1)
    a = adj.float()
    cosine = (a @ a.t()) / (a.sum(1, keepdim=True).sqrt() * a.sum(1).sqrt())
    estimate = (x @ x.t()) / dim
    assert (estimate - cosine).abs().max() < 0.05  # ~ 4 / sqrt(dim)


def test_sketch_errors():
    data = tiny()
    with pytest.raises(GraphclInputError, match="node type 'user'"):
        neighbour_sketch_features(data, "user")
    lonely = tiny()
    lonely["tag"].num_nodes = 3
    with pytest.raises(GraphclInputError, match="no outgoing relation"):
        neighbour_sketch_features(lonely, "tag")
    with pytest.raises(GraphclInputError, match="dim"):
        neighbour_sketch_features(data, "paper", dim=0)


PAP = [("paper", "to", "author"), ("author", "to", "paper")]
PVP = [("paper", "to", "venue"), ("venue", "to", "paper")]


def random_pav(n_p=60, n_a=40, n_v=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    data = HeteroData()
    data["paper"].num_nodes, data["author"].num_nodes, data["venue"].num_nodes = n_p, n_a, n_v
    pa = (torch.rand(n_p, n_a, generator=g) < 0.06).nonzero().t()
    pv = torch.stack([torch.arange(n_p), torch.randint(0, n_v, (n_p,), generator=g)])
    for (s, _, d), ei in ((PAP[0], pa), (PVP[0], pv)):
        data[s, "to", d].edge_index = ei
        data[d, "to", s].edge_index = ei.flip(0)
    return data


def dense_smoothing(data, metapaths, hops):
    """(1/M) sum_m (D^-1 (A_m + I))^hops, A_m the binary meta-path adjacency without diagonal."""
    n = data["paper"].num_nodes
    out = torch.zeros(n, n, dtype=torch.float64)
    for mp in metapaths:
        a = torch.eye(n, dtype=torch.float64)
        for et in mp:
            r = torch.zeros(data[et[0]].num_nodes, data[et[2]].num_nodes, dtype=torch.float64)
            r[data[et].edge_index[0], data[et].edge_index[1]] = 1.0
            a = (a @ r > 0).double()
        a.fill_diagonal_(0.0)
        p = a + torch.eye(n, dtype=torch.float64)
        p = p / p.sum(1, keepdim=True)
        out += torch.linalg.matrix_power(p, hops)
    return out / len(metapaths)


@pytest.mark.parametrize("hops", [1, 2])
def test_svd_features_match_the_dense_truncated_svd(hops):
    data = random_pav()
    s = dense_smoothing(data, [PAP, PVP], hops)
    u, sigma, _ = torch.linalg.svd(s)
    dim = 5
    expected = torch.nn.functional.normalize(u[:, :dim] * sigma[:dim], dim=1)
    x = metapath_svd_features(data, "paper", [PAP, PVP], dim=dim, hops=hops, seed=1).double()
    assert x.shape == (60, dim) and torch.allclose(x.norm(dim=1), torch.ones(60, dtype=torch.float64), atol=1e-5)
    # basis-free: compare the Gram matrices of the rows (any rotation of the subspace cancels)
    assert (x @ x.t() - expected @ expected.t()).abs().max() < 1e-3


def test_svd_features_determinism_names_and_errors():
    data = random_pav()
    data.metapaths = {"PAP": PAP, "PVP": PVP}
    x = metapath_svd_features(data, "paper", [PAP, PVP], dim=4, seed=2)
    assert torch.equal(x, metapath_svd_features(data, "paper", [PAP, PVP], dim=4, seed=2))
    assert torch.allclose(x, metapath_svd_features(data, "paper", ["PAP", "PVP"], dim=4, seed=2))
    with pytest.raises(GraphclInputError, match="node type 'user'"):
        metapath_svd_features(data, "user", [PAP])
    with pytest.raises(GraphclInputError, match="at least one meta-path"):
        metapath_svd_features(data, "paper", [])
    with pytest.raises(GraphclInputError, match="exceeds the 60 nodes"):
        metapath_svd_features(data, "paper", [PAP], dim=61)
