"""Student-t assignment, target distribution, KL term and k-means init against the formulas."""

import pytest
import torch

from graphcl import GraphclInputError
from graphcl.cluster import StudentTAssignment, kl_clustering_loss, kmeans, kmeans_centers, target_distribution


@pytest.mark.parametrize("v", [1.0, 2.5])
def test_student_t_matches_formula(v):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(20, 3, generator=g, dtype=torch.float64)
    mod = StudentTAssignment(4, 3, degree_of_freedom=v).double()
    q = mod(z)
    d2 = ((z[:, None, :] - mod.centers[None]) ** 2).sum(-1)
    num = (1 + d2 / v) ** (-(v + 1) / 2)
    ref = num / num.sum(1, keepdim=True)
    assert torch.allclose(q, ref)
    assert torch.allclose(q.sum(1), torch.ones(20, dtype=torch.float64))


def test_centres_are_trainable_and_settable():
    mod = StudentTAssignment(3, 2)
    mod.set_centers(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    q = mod(torch.tensor([[0.9, 1.1]]))
    assert q.argmax() == 1
    q.sum().backward()
    assert mod.centers.grad is not None
    assert "n_clusters=3" in repr(mod)


def test_target_distribution_and_kl_match_formulas():
    g = torch.Generator().manual_seed(1)
    q = torch.softmax(torch.randn(15, 4, generator=g, dtype=torch.float64), 1)
    p = target_distribution(q)
    w = q**2 / q.sum(0)
    assert torch.allclose(p, w / w.sum(1, keepdim=True))
    kl = kl_clustering_loss(p, q)
    assert torch.allclose(kl, (p * (p.log() - q.log())).sum() / 15)
    assert kl_clustering_loss(q, q).abs() < 1e-12


def test_kl_is_finite_with_zero_probabilities():
    q = torch.tensor([[1.0, 0.0], [0.5, 0.5]], requires_grad=True)
    p = torch.tensor([[1.0, 0.0], [0.9, 0.1]])
    kl = kl_clustering_loss(p, q)
    kl.backward()
    assert torch.isfinite(kl) and torch.isfinite(q.grad).all()


def test_kmeans_is_seeded_and_validates():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g) + 8])
    c1, l1 = kmeans(x, 2, random_state=3)
    c2, l2 = kmeans(x, 2, random_state=3)
    assert torch.equal(c1, c2) and torch.equal(l1, l2)
    assert len(set(l1[:30].tolist())) == 1 and l1[0] != l1[-1]
    assert kmeans_centers(x, 2).shape == (2, 2)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        kmeans(x, 1)
    with pytest.raises(GraphclInputError, match="n_clusters"):
        kmeans(x, 61)
