"""Sparse graph ops against scipy.sparse / dense references."""

import os

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from graphcl import GraphclInputError
from graphcl.ops import (
    adjacency_power,
    edge_cosine_similarity,
    get_scatter_backend,
    influence_matrix,
    l2_normalize,
    normalize_adjacency,
    propagate,
    scatter,
    set_scatter_backend,
    smooth_features,
    symmetrize,
    torch_scatter_available,
)


def random_graph(n=30, e=70, seed=0, weighted=False):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    w = torch.rand(e, generator=g, dtype=torch.float64) + 0.5 if weighted else None
    return ei, w


def to_scipy(ei, w, n):
    w = np.ones(ei.size(1)) if w is None else w.numpy()
    return sp.coo_matrix((w, (ei[0].numpy(), ei[1].numpy())), shape=(n, n)).tocsr()


def to_dense(ei, w, n):
    out = torch.zeros(n, n, dtype=torch.float64)
    out.index_put_((ei[0], ei[1]), w.double(), accumulate=True)
    return out


def scipy_normalized(ei, w, n, mode):
    a = to_scipy(ei, w, n)
    a.sum_duplicates()
    if w is None:
        a.data[:] = 1.0
    a = a.maximum(a.T) + sp.eye(n)
    deg = np.asarray(a.sum(1)).ravel()
    if mode == "row":
        return sp.diags(1 / deg) @ a
    return sp.diags(deg**-0.5) @ a @ sp.diags(deg**-0.5)


@pytest.mark.parametrize("mode", ["row", "sym"])
@pytest.mark.parametrize("weighted", [False, True])
def test_normalize_adjacency_matches_scipy(mode, weighted):
    n = 30
    ei, w = random_graph(n, seed=1, weighted=weighted)
    if weighted:  # max(A, A^T) of weights needs a coalesced input to be well defined
        a = to_scipy(ei, w, n)
        a.sum_duplicates()
        coo = a.tocoo()
        ei = torch.tensor(np.vstack([coo.row, coo.col]), dtype=torch.long)
        w = torch.tensor(coo.data)
    out_ei, out_w = normalize_adjacency(ei, w, n, mode=mode)
    ref = scipy_normalized(ei, w, n, mode).toarray()
    assert np.allclose(to_dense(out_ei, out_w, n).numpy(), ref)
    if mode == "row":
        assert torch.allclose(to_dense(out_ei, out_w, n).sum(1), torch.ones(n, dtype=torch.float64))


def test_isolated_node_gets_unit_self_loop():
    ei = torch.tensor([[0, 1], [1, 0]])
    out_ei, out_w = normalize_adjacency(ei, None, 3)
    dense = to_dense(out_ei, out_w, 3)
    assert dense[2, 2] == 1.0 and dense[2].sum() == 1.0


def test_symmetrize_takes_elementwise_max():
    ei = torch.tensor([[0, 1, 2], [1, 0, 0]])
    w = torch.tensor([1.0, 3.0, 2.0])
    out_ei, out_w = symmetrize(ei, w, 3)
    dense = to_dense(out_ei, out_w, 3)
    assert dense[0, 1] == dense[1, 0] == 3.0
    assert dense[0, 2] == dense[2, 0] == 2.0


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_power_and_influence_match_scipy(order):
    n = 25
    ei, _ = random_graph(n, 40, seed=order)
    a_ei, a_w = normalize_adjacency(ei, None, n)
    a = to_scipy(a_ei, a_w.double(), n)
    p_ei, p_w = adjacency_power(a_ei, a_w.double(), n, order)
    i_ei, i_w = influence_matrix(a_ei, a_w.double(), n, order)
    ref_power = np.linalg.matrix_power(a.toarray(), order)
    ref_infl = sum(np.linalg.matrix_power(a.toarray(), k) for k in range(1, order + 1))
    assert np.allclose(to_dense(p_ei, p_w, n).numpy(), ref_power)
    assert np.allclose(to_dense(i_ei, i_w, n).numpy(), ref_infl)
    # same support (self-loops make supp(A^k) grow with k), rows of the influence sum to r
    assert torch.equal(p_ei, i_ei)
    assert torch.allclose(to_dense(i_ei, i_w, n).sum(1), torch.full((n,), float(order), dtype=torch.float64))


def test_power_rejects_bad_order():
    ei, _ = random_graph()
    with pytest.raises(GraphclInputError, match="order"):
        adjacency_power(ei, None, 30, 0)


def test_edge_cosine_similarity_matches_dense():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(10, 4, generator=g, dtype=torch.float64)
    z[2] = 0
    ei = torch.cat([torch.randint(0, 10, (2, 30), generator=g), torch.tensor([[4], [4]])], 1)
    s = edge_cosine_similarity(z, ei)
    norm = z.norm(dim=1)
    dense = (z @ z.t()) / (norm[:, None] * norm[None, :]).clamp_min(1e-300)
    ref = dense[ei[0], ei[1]].masked_fill(ei[0] == ei[1], 0.0)
    assert torch.allclose(s, ref)
    assert s[-1] == 0.0  # self-pair convention


def test_l2_normalize_zero_row_has_zero_gradient():
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    zn = l2_normalize(z)
    assert torch.allclose(zn, torch.tensor([[0.0, 0.0], [0.6, 0.8]]))
    zn.sum().backward()
    assert torch.equal(z.grad[0], torch.zeros(2)) and torch.isfinite(z.grad).all()


def test_propagate_and_smooth_features_match_scipy():
    n = 20
    ei, _ = random_graph(n, 50, seed=3)
    x = torch.randn(n, 6, dtype=torch.float64)
    a_ei, a_w = normalize_adjacency(ei, None, n)
    a = to_scipy(a_ei, a_w.double(), n)
    assert np.allclose(propagate(x, a_ei, a_w.double(), n).numpy(), a @ x.numpy())
    assert np.allclose(smooth_features(x, ei, hops=2).numpy(), a @ (a @ x.numpy()))


BACKENDS = ["pyg", "torch_scatter"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_scatter_backends_agree(backend, reduce):
    if backend == "torch_scatter" and not torch_scatter_available():
        if os.environ.get("CI") == "true":
            pytest.fail("torch_scatter is not installed on CI: the optional back-end must be tested there")
        pytest.skip("torch_scatter not installed")
    g = torch.Generator().manual_seed(0)
    src = torch.randn(50, 3, generator=g)
    index = torch.randint(0, 7, (50,), generator=g)
    index[index == 5] = 6  # slot 5 stays empty
    set_scatter_backend(backend)
    try:
        assert get_scatter_backend() == backend
        out = scatter(src, index, 0, 8, reduce=reduce)
    finally:
        set_scatter_backend(None)
    ref = torch.zeros(8, 3)
    for k in range(8):
        rows = src[index == k]
        if len(rows):
            ref[k] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0).values, "min": rows.min(0).values}[reduce]
    assert torch.allclose(out, ref, atol=1e-6)


def test_unknown_scatter_backend():
    with pytest.raises(GraphclInputError, match="backend"):
        set_scatter_backend("numpy")
