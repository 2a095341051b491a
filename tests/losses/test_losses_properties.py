"""Property-based tests (hypothesis) of the losses on random graphs: finite values and
gradients, zero embedding vectors, a single cluster, and invariance to relabelling the nodes."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphcl.losses import NeighborContrastLoss, PamCLoss


@st.composite
def graphs(draw):
    n = draw(st.integers(2, 24))
    k = draw(st.integers(1, 4))
    e = draw(st.integers(1, 3 * n))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=g, dtype=torch.float64)
    zero_rows = draw(st.lists(st.integers(0, n - 1), max_size=3))
    z[zero_rows] = 0.0  # zero vectors have no direction
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = torch.cat([ei, torch.arange(n).repeat(2, 1)], dim=1)  # self-pairs: every node has a positive
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    q = torch.softmax(torch.randn(n, k, generator=g, dtype=torch.float64), dim=1)
    temperature = draw(st.sampled_from([0.05, 0.5, 2.0]))
    perm = torch.randperm(n, generator=g)
    return z, ei, w, q, temperature, perm


def _relabel(z, ei, q, perm):
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel())
    return z[perm], inv[ei], q[perm]  # node perm[i] becomes node i


def _losses(temperature):
    return [
        lambda z, ei, w, q: NeighborContrastLoss(temperature, block_size=5)(z, ei, w),
        lambda z, ei, w, q: PamCLoss(temperature, "hard")(z, ei, w, q),
        lambda z, ei, w, q: PamCLoss(temperature, "soft")(z, ei, w, q),
    ]


@settings(max_examples=40, deadline=None)
@given(graphs())
def test_losses_are_finite_with_finite_gradients(case):
    z, ei, w, q, t, _ = case
    for loss in _losses(t):
        zz, qq = z.clone().requires_grad_(), q.clone().requires_grad_()
        value = loss(zz, ei, w, qq)
        value.backward()
        assert torch.isfinite(value)
        assert torch.isfinite(zz.grad).all()
        assert qq.grad is None or torch.isfinite(qq.grad).all()  # (hard meta-nodes: no gradient into q)


@settings(max_examples=40, deadline=None)
@given(graphs())
def test_losses_are_invariant_to_relabelling_the_nodes(case):
    z, ei, w, q, t, perm = case
    z2, ei2, q2 = _relabel(z, ei, q, perm)
    for loss in _losses(t):
        torch.testing.assert_close(loss(z, ei, w, q), loss(z2, ei2, w, q2), rtol=1e-9, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(graphs())
def test_single_cluster_meta_node_term_is_constant(case):
    z, ei, w, _, t, _ = case
    one = torch.ones(z.size(0), 1, dtype=z.dtype)  # every node in one cluster: K' = 1
    loss = PamCLoss(t, "hard")
    value = loss.negative_term(z, one)
    assert torch.isfinite(value) and abs(float(value)) < 1e-12  # log e^0 = 0
