"""The modularity eigenvectors against the dense matrix B = Z Z^T - gamma d d^T / 1^T d."""

import pytest
import torch

from graphcl.cluster.spectral import modularity_eigenvectors
from graphcl.errors import GraphclInputError


def dense_b(z, gamma):
    s = z @ z.t()
    d = s.sum(1)
    return s - gamma * torch.outer(d, d) / d.sum() if d.sum() > 0 else s


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0])
def test_leading_eigenvectors_match_the_dense_matrix(gamma):
    """The Ritz values equal the k largest eigenvalues of the dense B, and the basis spans the
    same subspace (projectors agree); B is positive semi-definite for gamma <= 1."""
    g = torch.Generator().manual_seed(0)
    z = torch.rand(40, 12, generator=g, dtype=torch.float64)
    z = z / z.norm(dim=1, keepdim=True)
    b = dense_b(z, gamma)
    evals, evecs = torch.linalg.eigh(b)
    assert evals.min() > -1e-10  # PSD, as the docstring's Cauchy-Schwarz argument says
    out = modularity_eigenvectors(z, 3, gamma=gamma, max_iter=2000, tol=1e-12, random_state=1)
    want = evals.flip(0)[:3]
    assert torch.allclose(out.values, want, rtol=1e-8, atol=1e-10)
    q, u = out.vectors, evecs[:, -3:]
    assert torch.allclose(q.t() @ q, torch.eye(3, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(q @ q.t(), u @ u.t(), atol=1e-6)
    assert out.residual <= 1e-12 and out.n_iter < 2000
    assert all(b2 >= b1 - 1e-9 for b1, b2 in zip(out.traces, out.traces[1:]))  # the trace only grows
    assert torch.allclose(torch.diag(q.t() @ b @ q), out.values, atol=1e-10)  # Ritz vectors, sorted


def test_gamma_one_removes_the_degree_direction():
    """With gamma = 1, B 1 = d - d (1^T d) / (1^T d) = 0: the all-ones direction (every node's
    degree in the similarity graph) is in B's null space, so the leading vectors are orthogonal
    to it (here a similarity graph of six disjoint pairs)."""
    z = torch.eye(6, dtype=torch.float64).repeat(2, 1)  # 12 rows, every node similar to exactly one other
    b = dense_b(z, 1.0)
    assert torch.allclose(b @ torch.ones(12, dtype=torch.float64), torch.zeros(12, dtype=torch.float64), atol=1e-12)
    out = modularity_eigenvectors(z, 5, gamma=1.0, max_iter=500, tol=1e-12)
    assert torch.allclose(out.vectors.t() @ torch.ones(12, dtype=torch.float64), torch.zeros(5, dtype=torch.float64),
                          atol=1e-8)


def test_rows_summing_to_zero_drop_the_correction_and_callback_counts():
    z = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]], dtype=torch.float64)  # 1^T d = 0
    seen = []
    out = modularity_eigenvectors(z, 2, gamma=1.0, max_iter=50, tol=1e-12, callback=lambda *a: seen.append(a))
    assert torch.allclose(out.values, torch.tensor([8.0, 2.0], dtype=torch.float64))  # eigenvalues of Z Z^T
    assert [s[0] for s in seen] == list(range(out.n_iter)) and len(out.traces) == out.n_iter


def test_seeded_and_errors():
    z = torch.rand(20, 5, generator=torch.Generator().manual_seed(3))
    a = modularity_eigenvectors(z, 2, random_state=4, max_iter=5)
    b = modularity_eigenvectors(z, 2, random_state=4, max_iter=5)
    assert torch.equal(a.vectors, b.vectors) and a.n_iter == 5
    for bad, match in (({"k": 6}, "k"), ({"k": 0}, "k"), ({"gamma": 1.5}, "gamma"), ({"max_iter": 0}, "max_iter"),
                       ({"tol": -1.0}, "tol")):
        kwargs = {"k": 2, **bad}
        with pytest.raises(GraphclInputError, match=match):
            modularity_eigenvectors(z, **kwargs)
    with pytest.raises(GraphclInputError, match="non-finite"):
        modularity_eigenvectors(torch.full((4, 3), float("nan")), 2)
    with pytest.raises(GraphclInputError, match="2-D"):
        modularity_eigenvectors(torch.ones(4), 1)


def test_spectral_clustering_is_kmeans_on_the_row_normalised_eigenvectors():
    from graphcl.cluster import kmeans, spectral_clustering

    g = torch.Generator().manual_seed(5)
    centres = torch.rand(3, 8, generator=g, dtype=torch.float64)
    z = centres.repeat_interleave(20, 0) + 0.05 * torch.rand(60, 8, generator=g, dtype=torch.float64)
    out = spectral_clustering(z, 3, max_iter=300, tol=1e-10, random_state=2, n_init=4)
    eig = modularity_eigenvectors(z, 3, max_iter=300, tol=1e-10, random_state=2)
    emb = eig.vectors / eig.vectors.norm(dim=1, keepdim=True)
    centers, labels = kmeans(emb, 3, random_state=2, n_init=4)
    assert torch.equal(out.embedding, emb) and torch.equal(out.labels, labels) and torch.equal(out.centers, centers)
    assert torch.equal(out.eigen.vectors, eig.vectors)
    assert len(set(out.labels[:20].tolist())) == 1 and len(set(out.labels.tolist())) == 3  # the three planted groups
