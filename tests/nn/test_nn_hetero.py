"""Heterogeneous building blocks against explicit (loop / dense) implementations."""

import math

import pytest
import torch
import torch.nn.functional as F

from graphcl.errors import GraphclInputError
from graphcl.nn.hetero import (
    MetaPathContextEncoder,
    NodeTypeProjection,
    ProjectionHead,
    SemanticAttention,
    StandardizedGCN,
)
from graphcl.ops import row_mean_operator, sparse_operator, spmm


def test_context_encoder_equals_explicit_loop():
    # hand-built: 3 papers, 4 authors, 2 subjects; paper 2 has no author
    h_paper = torch.randn(3, 5)
    h_author = torch.randn(4, 5)
    h_subject = torch.randn(2, 5)
    pa = torch.tensor([[0, 0, 1, 1, 1], [0, 3, 1, 2, 3]])
    ps = torch.tensor([[0, 1, 2], [1, 0, 0]])
    enc = MetaPathContextEncoder(2, 5).eval()
    means = [spmm(row_mean_operator(pa, 3, 4), h_author), spmm(row_mean_operator(ps, 3, 2), h_subject)]
    out = enc(h_paper, means)
    authors = {0: [0, 3], 1: [1, 2, 3], 2: []}
    subjects = {0: [1], 1: [0], 2: [0]}
    for i in range(3):
        acc = h_paper[i].clone()
        for lin, members, table in ((enc.lins[0], authors[i], h_author), (enc.lins[1], subjects[i], h_subject)):
            mean = torch.zeros(5)
            for u in members:
                mean += table[u]
            mean /= max(1, len(members))
            acc += lin.weight @ mean
        assert torch.allclose(out[i], F.elu(acc), atol=1e-6)


def test_row_mean_operator_counts_duplicates_once():
    op = row_mean_operator(torch.tensor([[0, 0, 0], [1, 1, 2]]), 2, 3)
    h = torch.tensor([[1.0], [2.0], [4.0]])
    assert torch.allclose(spmm(op, h), torch.tensor([[3.0], [0.0]]))


def test_embedding_table_equals_linear_on_one_hot():
    proj = NodeTypeProjection(None, 4, num_nodes=6).eval()
    lin = torch.nn.Linear(6, 4)
    with torch.no_grad():
        lin.weight.copy_(proj.table.t())
        lin.bias.copy_(proj.bias)
    zero = torch.tensor([False, True, False, False, True, False])
    eye = torch.eye(6)
    assert torch.allclose(proj(), F.elu(lin(eye)), atol=1e-6)
    assert torch.allclose(proj(zero_rows=zero), F.elu(lin(eye * (~zero).float().unsqueeze(1))), atol=1e-6)
    with pytest.raises(GraphclInputError):
        proj(torch.ones(6, 6))
    with pytest.raises(GraphclInputError):
        NodeTypeProjection(None, 4)


def test_standardized_gcn_equals_dense_formula():
    torch.manual_seed(0)
    n, c = 7, 4
    ei = torch.randint(0, n, (2, 20))
    w = torch.rand(20)
    adj = sparse_operator(ei, w, n)
    dense = torch.zeros(n, n).index_put_((ei[0], ei[1]), w, accumulate=True)
    gcn = StandardizedGCN(c).eval()
    x = torch.randn(n, c)
    z = dense @ (gcn.act(dense @ (x @ gcn.lin1.weight.t())) @ gcn.lin2.weight.t())
    expected = (z - z.mean()) / torch.sqrt(z.var(unbiased=False) + 1e-5)
    assert torch.allclose(gcn(x, adj), expected, atol=1e-5)


def test_prelu_linear_is_bit_identical_and_keeps_only_its_input():
    """The GCN's second layer reads PReLU(s) through a Function that keeps only ``s``: values
    and gradients equal autograd's own to the bit, and one ``[N, c]`` tensor is saved, not two."""
    from graphcl.nn.hetero import _PReLULinear

    torch.manual_seed(0)
    s = torch.randn(500, 16, requires_grad=True)
    slope, weight = torch.nn.Parameter(torch.tensor([0.25])), torch.nn.Parameter(torch.randn(16, 16))
    g = torch.randn(500, 16)
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        got = _PReLULinear.apply(s, slope, weight)
    ref = torch.nn.functional.linear(torch.nn.functional.prelu(s, slope), weight)
    assert torch.equal(got, ref)
    ours, theirs = torch.autograd.grad(got, [s, slope, weight], g), torch.autograd.grad(ref, [s, slope, weight], g)
    assert torch.equal(ours[0], theirs[0]) and torch.equal(ours[2], theirs[2])  # s and W: bit for bit
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-5, atol=1e-5)  # the slope: another summation order
    assert sum(n for n in saved if n >= s.numel()) == s.numel()  # s alone, not PReLU(s) too
    # each gradient alone, and per-channel slopes (autograd's own backward)
    assert torch.equal(torch.autograd.grad(_PReLULinear.apply(s, slope.detach(), weight.detach()), s, g)[0], theirs[0])
    slopes = torch.nn.Parameter(torch.full((16,), 0.1))
    got = _PReLULinear.apply(s, slopes, weight)
    ref = torch.nn.functional.linear(torch.nn.functional.prelu(s, slopes), weight)
    for a, b in zip(torch.autograd.grad(got, [s, slopes], g), torch.autograd.grad(ref, [s, slopes], g)):
        assert torch.equal(a, b)


def test_standardized_gcn_normalized_equals_normalized_output():
    """``normalized`` skips the variance: the row normalisation removes the common scale, so
    values and gradients (x and every parameter) equal ``normalize(gcn(x, adj))``."""
    torch.manual_seed(0)
    n, c = 30, 5
    ei = torch.randint(0, n, (2, 90))
    adj = sparse_operator(ei, torch.rand(90, dtype=torch.float64), n)
    adj.mat, adj.mat_t = adj.mat.to(torch.float64), adj.mat_t.to(torch.float64)
    gcn = StandardizedGCN(c).double().eval()
    x = torch.randn(n, c, dtype=torch.float64, requires_grad=True)
    g = torch.randn(n, c, dtype=torch.float64)
    params = [x, *gcn.parameters()]
    got, want = gcn.normalized(x, adj), torch.nn.functional.normalize(gcn(x, adj), dim=1)
    assert torch.allclose(got, want, atol=1e-12)
    for a, b in zip(torch.autograd.grad((got * g).sum(), params), torch.autograd.grad((want * g).sum(), params)):
        assert torch.allclose(a, b, atol=1e-10)


def test_semantic_attention_equals_formula():
    att = SemanticAttention(3).eval()
    views = torch.randn(4, 5, 3)
    z, beta = att(views)
    scores = torch.stack([(torch.tanh(v @ att.lin.weight.t() + att.lin.bias).mean(0) * att.att[0]).sum() for v in views])
    expected_beta = torch.softmax(scores, 0)
    assert torch.allclose(beta, expected_beta, atol=1e-6)
    assert torch.allclose(z, sum(b * v for b, v in zip(expected_beta, views)), atol=1e-6)
    with pytest.raises(GraphclInputError):
        att(torch.randn(5, 3))


def test_semantic_attention_blocks_and_gradients_equal_stacked_formula(monkeypatch):
    """The row-block summary and the list-weighted sum give the stacked formula's values and
    gradients (every parameter and every view), with blocks that do not divide N."""
    import graphcl.nn.hetero as hetero

    monkeypatch.setattr(hetero, "_BLOCK_ELEMENTS", 8 * 77)  # 77-row blocks, a ragged last one
    torch.manual_seed(0)
    att = SemanticAttention(8).double()
    views = [torch.randn(1000, 8, dtype=torch.float64, requires_grad=True) for _ in range(3)]

    def stacked(vs):
        st = torch.stack(vs)
        beta = torch.softmax((torch.tanh(att.lin(st)).mean(dim=1) @ att.att.t()).squeeze(1), 0)
        return torch.einsum("v,vnc->nc", beta, st), beta

    g, gb = torch.randn(1000, 8, dtype=torch.float64), torch.arange(3.0, dtype=torch.float64)
    params = [*views, att.lin.weight, att.lin.bias, att.att]
    (z, beta), (zr, br) = att(views), stacked(views)
    assert torch.allclose(z, zr, atol=1e-12) and torch.allclose(beta, br, atol=1e-12)
    got = torch.autograd.grad((z * g).sum() + (beta * gb).sum(), params)
    want = torch.autograd.grad((zr * g).sum() + (br * gb).sum(), params)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-12)
    z_t, beta_t = att(torch.stack(views))  # one [V, N, c] tensor: the same
    assert torch.equal(z_t, z) and torch.equal(beta_t, beta)
    with pytest.raises(GraphclInputError):
        att([views[0], views[1][:10]])  # views of different sizes


def test_projection_head_unit_rows():
    out = ProjectionHead(6, 3)(torch.randn(10, 6))
    assert out.shape == (10, 3)
    assert torch.allclose(out.norm(dim=1), torch.ones(10), atol=1e-5)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_sizes_rejected(bad):
    with pytest.raises(GraphclInputError):
        StandardizedGCN(bad)


def test_dropout_range_checked():
    with pytest.raises(GraphclInputError):
        MetaPathContextEncoder(1, 4, dropout=1.0)
    assert math.isclose(MetaPathContextEncoder(1, 4, dropout=0.5).dropout, 0.5)
