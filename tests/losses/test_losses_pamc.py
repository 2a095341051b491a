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


def dense_mass_negatives(z, q, temperature, mode):
    """Dense reference of ``negatives="mass"``: (1/N) sum_i log sum_{k non-empty} n_k exp(zn_i . mu_k / T),
    mu_k the (hard or q-weighted) mean of the unit embeddings of cluster k, by explicit loops."""
    n, k = q.shape
    zn = z / z.norm(dim=1, keepdim=True)
    weights = torch.nn.functional.one_hot(q.detach().argmax(1), k).to(z.dtype) if mode == "hard" else q
    rows = []
    for i in range(n):
        terms = []
        for c in range(k):
            n_c = weights[:, c].sum()
            if n_c <= (0 if mode == "hard" else 1e-6 * n / k):
                continue
            mu = (weights[:, c:c + 1] * zn).sum(0) / n_c
            terms.append(torch.log(n_c) + zn[i] @ mu / temperature)
        rows.append(torch.logsumexp(torch.stack(terms), 0))
    return torch.stack(rows).mean()


@pytest.mark.parametrize("mode", ["hard", "soft"])
@pytest.mark.parametrize("temperature", [0.25, 1.0, 2.0])
@pytest.mark.parametrize("empty", [(), (0,), (0, 4)])
def test_mass_negatives_match_dense_values_and_gradients(mode, temperature, empty):
    z, ei, w, logits = problem(empty=empty)
    z1, l1 = z.clone().requires_grad_(), logits.clone().requires_grad_()
    z2, l2 = z.clone().requires_grad_(), logits.clone().requires_grad_()
    loss_fn = PamCLoss(temperature, meta_nodes=mode, negatives="mass")
    loss = loss_fn(z1, ei, w, torch.softmax(l1, 1))
    ref = loss_fn.positive_term(z2, ei, w) + dense_mass_negatives(z2, torch.softmax(l2, 1), temperature, mode)
    loss.backward()
    ref.backward()
    assert torch.isfinite(loss) and torch.allclose(loss, ref)
    assert torch.allclose(z1.grad, z2.grad, atol=1e-10)
    if mode == "soft":
        assert torch.allclose(l1.grad, l2.grad, atol=1e-10)
    # the positive term is the reference's: only the negative term differs between the modes
    meta = PamCLoss(temperature, meta_nodes=mode)
    assert torch.allclose(loss.detach() - loss_fn.negative_term(z, torch.softmax(logits, 1)),
                          meta(z, ei, w, torch.softmax(logits, 1)) - meta.negative_term(z, torch.softmax(logits, 1)))


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_mass_negatives_are_a_jensen_lower_bound_of_the_all_pairs_denominator(temperature):
    """log sum_k n_k exp(zn_i . mu_k / T) <= log sum_j exp(zn_i . zn_j / T), equal when every cluster
    is a single direction."""
    z, _, _, logits = problem(n=40, k=4, seed=3)
    q = torch.softmax(logits, 1)
    loss_fn = PamCLoss(temperature, negatives="mass")
    sums, mass = loss_fn.cluster_sums(z, q)
    bound = loss_fn.mass_log_denominators(z, sums, mass)
    zn = z / z.norm(dim=1, keepdim=True)
    exact = torch.logsumexp(zn @ zn.t() / temperature, dim=1)
    assert (bound <= exact + 1e-12).all() and (bound < exact - 1e-6).any()
    a = q.argmax(1)
    points = torch.randn(4, 4, dtype=torch.float64)[a]  # every member of a cluster at one point
    s2, m2 = loss_fn.cluster_sums(points, q)
    pn = points / points.norm(dim=1, keepdim=True)
    assert torch.allclose(loss_fn.mass_log_denominators(points, s2, m2), torch.logsumexp(pn @ pn.t() / temperature, 1))


def test_mass_negatives_minibatch_with_the_rest_of_the_graph_as_base_equals_full_batch():
    z, ei, w, logits = problem(n=30, k=5, seed=4)
    q = torch.softmax(logits, 1)
    loss_fn = PamCLoss(1.0, negatives="mass")
    anchors = torch.arange(0, 30, 3)
    rest = torch.ones(30, dtype=torch.bool)
    rest[anchors] = False
    base = loss_fn.cluster_sums(z[rest], q[rest])
    full = loss_fn.mass_log_denominators(z, *loss_fn.cluster_sums(z, q))[anchors].mean()
    assert torch.allclose(loss_fn.negative_term(z[anchors], q[anchors], base=base), full)


def test_negatives_argument_is_checked():
    with pytest.raises(GraphclInputError, match="negatives must be one of"):
        PamCLoss(1.0, negatives="all")
    assert "negatives='mass'" in repr(PamCLoss(1.0, negatives="mass"))
