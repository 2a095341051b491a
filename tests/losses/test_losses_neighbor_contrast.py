"""NeighborContrastLoss against a dense reference written from the formula (scgc_pamc.md §5.1)."""

import pytest
import torch

from graphcl import GraphclInputError
from graphcl.losses import NeighborContrastLoss


def dense_reference(z, edge_index, edge_weight, temperature):
    """L = -mean_i log( sum_j W_ij e^{s_ij/T} / sum_j e^{s_ij/T} ), s = cos, s_ii = 0 (dense N×N)."""
    n = z.size(0)
    w = torch.zeros(n, n, dtype=z.dtype)
    w.index_put_((edge_index[0], edge_index[1]), edge_weight, accumulate=True)
    norm = z.norm(dim=1, keepdim=True)
    zn = torch.where(norm > 0, z / norm.clamp_min(1e-300), torch.zeros_like(z))
    s = zn @ zn.t()
    s = s * (1 - torch.eye(n, dtype=z.dtype))
    e = torch.exp(s / temperature)
    num = (w * e).sum(1)
    keep = num > 0
    return -torch.log(num[keep] / e.sum(1)[keep]).mean()


def random_problem(n, d, nnz, seed, self_loops=True):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    ei = torch.randint(0, n, (2, nnz), generator=g)
    if self_loops:
        loop = torch.arange(n)
        ei = torch.cat([ei, torch.stack([loop, loop])], 1)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1
    return z, ei, w


@pytest.mark.parametrize("temperature", [0.02, 0.05, 0.5, 1.0, 4.0])
@pytest.mark.parametrize("block_size", [1, 7, 64, 1024])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_dense_values_and_gradients(temperature, block_size, seed):
    z, ei, w = random_problem(37, 5, 90, seed)
    z1 = z.clone().requires_grad_()
    z2 = z.clone().requires_grad_()
    loss = NeighborContrastLoss(temperature, block_size)(z1, ei, w)
    ref = dense_reference(z2, ei, w, temperature)
    loss.backward()
    ref.backward()
    assert torch.allclose(loss, ref, rtol=1e-10, atol=1e-10)
    assert torch.allclose(z1.grad, z2.grad, rtol=1e-8, atol=1e-10)


def test_gradcheck():
    z, ei, w = random_problem(9, 3, 20, 3)
    loss = NeighborContrastLoss(0.7, block_size=4)
    assert torch.autograd.gradcheck(lambda t: loss(t, ei, w), (z.requires_grad_(),))


def test_zero_vectors_isolated_nodes_and_duplicate_pairs():
    z, ei, w = random_problem(12, 4, 10, 5, self_loops=False)
    z[3] = 0.0  # a zero embedding: similarity 0 with everything
    ei = torch.cat([ei, ei[:, :3]], 1)  # duplicate pairs add their weights
    w = torch.cat([w, w[:3]])
    z1 = z.clone().requires_grad_()
    z2 = z.clone().requires_grad_()
    loss = NeighborContrastLoss(0.5, 5)(z1, ei, w)
    ref = dense_reference(z2, ei, w, 0.5)  # nodes without positives are left out of the mean
    loss.backward()
    ref.backward()
    assert torch.isfinite(loss)
    assert torch.allclose(loss, ref)
    assert torch.allclose(z1.grad, z2.grad, atol=1e-10)


def test_float32_is_finite_at_small_temperature():
    z, ei, w = random_problem(50, 8, 100, 2)
    z = z.float().requires_grad_()
    loss = NeighborContrastLoss(0.01, 16)(z, ei, w.float())
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_node_batch_mode_equals_dense_on_induced_subproblem():
    z, ei, w = random_problem(40, 4, 150, 4)
    idx = torch.tensor([3, 0, 17, 22, 9, 31, 5, 38])
    z1 = z.clone().requires_grad_()
    z2 = z.clone().requires_grad_()
    loss = NeighborContrastLoss(0.5, 3)(z1, ei, w, node_index=idx)
    # reference: keep pairs inside the batch, relabel, dense loss over the batch
    pos = torch.full((40,), -1)
    pos[idx] = torch.arange(idx.numel())
    mask = (pos[ei[0]] >= 0) & (pos[ei[1]] >= 0)
    ref = dense_reference(z2[idx], pos[ei[:, mask]], w[mask], 0.5)
    loss.backward()
    ref.backward()
    assert torch.allclose(loss, ref)
    assert torch.allclose(z1.grad, z2.grad, atol=1e-10)
    assert z1.grad[[1, 2]].abs().sum() == 0  # nodes outside the batch get no gradient


def test_saved_tensor_memory_is_linear_in_n():
    """Autograd keeps O(block·N + nnz) bytes, never an N×N matrix (N = 4 000)."""
    n, d, block = 4000, 10, 256
    g = torch.Generator().manual_seed(0)
    z = torch.randn(n, d, generator=g, requires_grad=True)
    loop = torch.arange(n)
    ei = torch.cat([torch.randint(0, n, (2, 4 * n), generator=g), torch.stack([loop, loop])], 1)
    w = torch.rand(ei.size(1), generator=g)
    saved = []

    def pack(t):
        saved.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = NeighborContrastLoss(1.0, block)(z, ei, w)
    total = sum(saved)
    dense_bytes = n * n * 4
    assert total <= 4 * block * n, (total, block * n)
    assert total < dense_bytes / 10
    loss.backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "x"])
def test_rejects_bad_temperature(bad):
    with pytest.raises(GraphclInputError, match="temperature"):
        NeighborContrastLoss(bad)


def test_rejects_bad_edges_and_block_size():
    z = torch.randn(5, 2)
    loss = NeighborContrastLoss(1.0)
    with pytest.raises(GraphclInputError, match="edge_index"):
        loss(z, torch.tensor([[0, 5], [1, 2]]))
    with pytest.raises(GraphclInputError, match="edge_index"):
        loss(z, torch.tensor([[0.0, 1.0], [1.0, 2.0]]))
    with pytest.raises(GraphclInputError, match="edge_weight"):
        loss(z, torch.tensor([[0, 1], [1, 2]]), torch.tensor([1.0]))
    with pytest.raises(GraphclInputError, match="block_size"):
        NeighborContrastLoss(1.0, block_size=0)
    with pytest.raises(GraphclInputError, match="positive pair"):
        loss(z, torch.tensor([[0, 1], [1, 2]]), torch.zeros(2))


def _dense_rows_log_den(zr, zc, self_index, t):
    logits = zr @ zc.t() / t
    rows = torch.nonzero(self_index >= 0).view(-1)
    logits = logits.clone()
    logits[rows, self_index[rows]] = 0.0
    return torch.logsumexp(logits, dim=1)


@pytest.mark.parametrize("temperature", [0.5, 0.02])  # fixed shift, and row maxima (1/T > 40)
@pytest.mark.parametrize("block", [3, 64])
def test_rows_log_denominator_equals_dense_values_and_gradients(temperature, block):
    from graphcl.losses.neighbor_contrast import rows_log_denominator
    from graphcl.ops.similarity import l2_normalize

    g = torch.Generator().manual_seed(0)
    zc = l2_normalize(torch.randn(11, 4, generator=g, dtype=torch.float64)).requires_grad_()
    zr = l2_normalize(torch.randn(7, 4, generator=g, dtype=torch.float64)).requires_grad_()
    self_index = torch.tensor([3, -1, 0, 10, -1, 5, 6])
    weights = torch.rand(7, generator=g, dtype=torch.float64)
    got = rows_log_denominator(zr, zc, self_index, temperature, block)
    want = _dense_rows_log_den(zr, zc, self_index, temperature)
    torch.testing.assert_close(got, want)
    g_got = torch.autograd.grad((got * weights).sum(), (zr, zc))
    g_want = torch.autograd.grad((want * weights).sum(), (zr, zc))
    for a, b in zip(g_got, g_want):
        torch.testing.assert_close(a, b)


def test_rows_log_denominator_of_all_rows_is_the_all_pairs_denominator():
    from graphcl.losses.neighbor_contrast import all_pairs_log_denominator, rows_log_denominator
    from graphcl.ops.similarity import l2_normalize

    zn = l2_normalize(torch.randn(20, 3, dtype=torch.float64))
    torch.testing.assert_close(rows_log_denominator(zn, zn, torch.arange(20), 0.7, 4),
                               all_pairs_log_denominator(zn, 0.7, 4))


def test_rows_log_denominator_rejects_bad_self_index():
    from graphcl.losses.neighbor_contrast import rows_log_denominator

    with pytest.raises(GraphclInputError, match="self_index"):
        rows_log_denominator(torch.randn(3, 2), torch.randn(4, 2), torch.tensor([0, 1, 4]), 1.0)
