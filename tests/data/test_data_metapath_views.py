"""MEOW's graph views: the normalised operator and the static masks."""

import torch

from graphcl.data.metapath_views import mask_edges, mask_features, mean_operator, metapath_operator


def _dense(op):
    return op.mat.to_dense()


def test_metapath_operator_equals_dense_formula():
    torch.manual_seed(0)
    n = 6
    ei = torch.tensor([[0, 0, 1, 2, 2, 3, 4, 4], [0, 1, 1, 0, 3, 3, 4, 2]])  # directed, node 5 isolated
    w = torch.tensor([2.0, 1.0, 3.0, 1.0, 4.0, 1.0, 2.0, 5.0])
    t = torch.zeros(n, n).index_put_((ei[0], ei[1]), w)
    d = t.sum(1)
    inv = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
    expected = inv[:, None] * t.t() * inv[None, :]
    assert torch.allclose(_dense(metapath_operator(ei, w, n)), expected, atol=1e-6)
    assert _dense(metapath_operator(ei, w, n))[5].abs().sum() == 0  # the isolated node gets nothing


def test_mask_edges_drops_a_fraction_of_off_diagonal_entries_and_adds_self_loops():
    n = 50
    ei = torch.randint(0, n, (2, 400)).unique(dim=1)
    off = int((ei[0] != ei[1]).sum())
    out, w = mask_edges(ei, n, 0.3, torch.Generator().manual_seed(0))
    kept_off = out[:, out[0] != out[1]]
    assert kept_off.size(1) == off - int(0.3 * off)
    assert (out[0] == out[1]).sum() == n and torch.equal(w, torch.ones(out.size(1)))
    orig = {tuple(e) for e in ei.t().tolist()}
    assert all(tuple(e) in orig for e in kept_off.t().tolist())
    again, _ = mask_edges(ei, n, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_mask_features_zeroes_a_fraction_of_nonzeros():
    x = (torch.rand(20, 30) < 0.2).float() * torch.rand(20, 30)
    nnz = int((x != 0).sum())
    masked, rows = mask_features(x, 20, 0.3, torch.Generator().manual_seed(1))
    assert rows is None and int((masked != 0).sum()) == nnz - int(0.3 * nnz)
    assert torch.all((masked == 0) | (masked == x))
    none, rows = mask_features(None, 20, 0.25, torch.Generator().manual_seed(1))
    assert none is None and int(rows.sum()) == 5


def test_mean_operator_averages():
    n = 4
    a = metapath_operator(torch.tensor([[0, 1], [1, 0]]), torch.ones(2), n)
    b = metapath_operator(torch.tensor([[2, 3, 0], [3, 2, 0]]), torch.ones(3), n)
    assert torch.allclose(_dense(mean_operator([a, b], n)), (_dense(a) + _dense(b)) / 2)
