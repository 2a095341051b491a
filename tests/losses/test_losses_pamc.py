"""PamCLoss against a dense implementation of the formula (scgc_pamc.md §6), both meta-node modes."""

import pytest
import torch

from graphcl import GraphclInputError
from graphcl.losses import PamCLoss


def dense_pamc(z, edge_index, edge_weight, q, temperature, mode):
    """Dense reference: W as an N×N matrix, one-hot (or soft) assignment matrix, masks."""
    n, k = q.shape
    w = torch.zeros(n, n, dtype=z.dtype)
    w.index_put_((edge_index[0], edge_index[1]), edge_weight, accumulate=True)
    norm = z.norm(dim=1, keepdim=True)
    zn = torch.where(norm > 0, z / norm.clamp_min(1e-300), torch.zeros_like(z))
    s = (zn @ zn.t()) * (1 - torch.eye(n, dtype=z.dtype))
    num = (w * torch.exp(s / temperature)).sum(1)
    has = num > 0
    pos = -torch.log(num[has]).mean()
    if mode == "hard":
        onehot = torch.nn.functional.one_hot(q.detach().argmax(1), k).to(z.dtype)
        c, mass = onehot.t() @ z, onehot.sum(0)
    else:
        c, mass = q.t() @ z, q.sum(0)
    c = c[mass > (0 if mode == "hard" else 1e-6 * n / k)]  # the documented "empty" rule
    cn = c / c.norm(dim=1, keepdim=True)
    sc = (cn @ cn.t()) * (1 - torch.eye(c.size(0), dtype=z.dtype))
    neg = torch.log(torch.exp(sc / temperature).sum(1)).mean()
    return pos + neg


def problem(n=30, k=5, seed=0, empty=()):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 4, generator=g, dtype=torch.float64)
    logits = torch.randn(n, k, generator=g, dtype=torch.float64)
    for e in empty:  # make cluster e never the argmax
        logits[:, e] = -50.0
    loop = torch.arange(n)
    ei = torch.cat([torch.randint(0, n, (2, 3 * n), generator=g), torch.stack([loop, loop])], 1)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    return z, ei, w, logits


@pytest.mark.parametrize("mode", ["hard", "soft"])
@pytest.mark.parametrize("temperature", [0.25, 1.0, 2.0])
@pytest.mark.parametrize("empty", [(), (0,), (4,), (0, 4)])
def test_matches_dense_values_and_gradients(mode, temperature, empty):
    z, ei, w, logits = problem(empty=empty)
    z1, l1 = z.clone().requires_grad_(), logits.clone().requires_grad_()
    z2, l2 = z.clone().requires_grad_(), logits.clone().requires_grad_()
    loss = PamCLoss(temperature, meta_nodes=mode)(z1, ei, w, torch.softmax(l1, 1))
    ref = dense_pamc(z2, ei, w, torch.softmax(l2, 1), temperature, mode)
    loss.backward()
    ref.backward()
    assert torch.isfinite(loss) and torch.allclose(loss, ref)
    assert torch.allclose(z1.grad, z2.grad, atol=1e-10)
    if mode == "hard":  # the hard assignment is not differentiated
        assert l1.grad is None and l2.grad is None
    else:
        assert torch.allclose(l1.grad, l2.grad, atol=1e-10)


@pytest.mark.parametrize("mode", ["hard", "soft"])
def test_one_node_cluster_and_zero_embedding_are_finite(mode):
    z, ei, w, logits = problem(n=12, k=3, seed=2, empty=(1,))
    logits[5, 1] = 100.0  # node 5 alone in cluster 1
    z[7] = 0.0
    z = z.requires_grad_()
    q = torch.softmax(logits, 1).requires_grad_()
    loss = PamCLoss(0.5, meta_nodes=mode)(z, ei, w, q)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()
    assert q.grad is None if mode == "hard" else torch.isfinite(q.grad).all()
    assert torch.allclose(loss, dense_pamc(z.detach(), ei, w, q.detach(), 0.5, mode))


def test_single_nonempty_cluster_gives_zero_negative_term():
    z, ei, w, logits = problem(n=10, k=3, empty=(1, 2))
    loss = PamCLoss(1.0)
    assert loss.negative_term(z, torch.softmax(logits, 1)) == 0.0


def test_bad_arguments():
    z, ei, w, logits = problem(n=10, k=3)
    with pytest.raises(GraphclInputError, match="meta_nodes"):
        PamCLoss(1.0, meta_nodes="fuzzy")
    with pytest.raises(GraphclInputError, match="temperature"):
        PamCLoss(-1.0)
    with pytest.raises(GraphclInputError, match="q must"):
        PamCLoss(1.0)(z, ei, w, torch.softmax(logits[:5], 1))
