"""Label-free features of featureless node types: neighbour-set sketches."""

import pytest
import torch
from torch_geometric.data import HeteroData

from graphcl.data.graph_features import neighbour_sketch_features
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
