"""SparseOperator: products and gradients equal the dense matrix's."""

import gc

import pytest
import torch

from graphcl.errors import GraphclInputError
from graphcl.ops import SparseOperator, row_mean_operator, sparse_operator


@pytest.mark.parametrize("shape", [(6, 6), (4, 9)])
def test_product_and_gradient_equal_dense(shape):
    torch.manual_seed(0)
    r, c = shape
    ei = torch.stack([torch.randint(0, r, (25,)), torch.randint(0, c, (25,))])
    w = torch.rand(25)
    op = sparse_operator(ei, w, r, c)
    dense = torch.zeros(r, c).index_put_((ei[0], ei[1]), w, accumulate=True)  # duplicates summed
    assert isinstance(op, SparseOperator) and torch.allclose(op.mat.to_dense(), dense)
    x = torch.randn(c, 3, requires_grad=True)
    g = torch.randn(r, 3)
    (gx,) = torch.autograd.grad((op @ x * g).sum(), x)
    (gd,) = torch.autograd.grad((dense @ x * g).sum(), x)
    assert torch.allclose(op @ x, dense @ x, atol=1e-6) and torch.allclose(gx, gd, atol=1e-6)
    ei2, w2 = op.coo()
    assert torch.allclose(sparse_operator(ei2, w2, r, c).mat.to_dense(), dense)


def test_row_mean_operator_empty_rows_and_duplicates():
    op = row_mean_operator(torch.tensor([[0, 0, 0, 2], [1, 1, 2, 0]]), 3, 3)
    assert torch.allclose(op.mat.to_dense(), torch.tensor([[0, 0.5, 0.5], [0, 0, 0], [1.0, 0, 0]]))


def test_out_of_range_rejected():
    with pytest.raises(GraphclInputError):
        sparse_operator(torch.tensor([[0, 3], [0, 0]]), None, 3)
    with pytest.raises(GraphclInputError):
        sparse_operator(torch.tensor([0, 1]), None, 3)


def test_symmetric_matrix_stored_once_with_32bit_indices():
    torch.manual_seed(1)
    ei = torch.randint(0, 8, (2, 30))
    ei = torch.cat([ei, ei.flip(0)], dim=1)  # symmetric support, values below made symmetric too
    w = torch.rand(30).repeat(2)
    sym = sparse_operator(ei, w, 8)
    assert sym.mat_t is sym.mat
    assert sym.mat.crow_indices().dtype == torch.int32 and sym.mat.col_indices().dtype == torch.int32
    dense = torch.zeros(8, 8).index_put_((ei[0], ei[1]), w, accumulate=True)
    x = torch.randn(8, 4, dtype=torch.float32, requires_grad=True)
    g = torch.randn(8, 4)
    (gx,) = torch.autograd.grad((sym @ x * g).sum(), x)
    assert torch.allclose(sym @ x, dense @ x, atol=1e-6) and torch.allclose(gx, dense.t() @ g, atol=1e-6)
    ei2, _ = sym.coo()
    assert ei2.dtype == torch.long
    moved = sym.to("cpu")
    assert moved.mat_t is moved.mat
    # one asymmetric value: both orientations kept, and the backward uses the transpose
    w_asym = w.clone()
    w_asym[0] += 1.0
    asym = sparse_operator(ei, w_asym, 8)
    assert asym.mat_t is not asym.mat
    dense_asym = torch.zeros(8, 8).index_put_((ei[0], ei[1]), w_asym, accumulate=True)
    (gx,) = torch.autograd.grad((asym @ x * g).sum(), x)
    assert torch.allclose(gx, dense_asym.t() @ g, atol=1e-6)


def _live_int64_csr() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects()
               if isinstance(o, torch.Tensor) and o.layout == torch.sparse_csr and o.crow_indices().dtype == torch.int64)


def test_32bit_operator_frees_the_64bit_intermediate():
    """The 32-bit matrix shares the values but must not keep the 64-bit index arrays alive (its
    values were a view of the 64-bit CSR: at 10^6 targets that held about 1.5 GB in MEOW)."""
    torch.manual_seed(0)
    before = _live_int64_csr()
    ei = torch.randint(0, 50, (2, 400))
    asym = sparse_operator(ei, torch.rand(400), 50, 60)  # two orientations, both converted
    assert asym.mat.crow_indices().dtype == torch.int32 and asym.mat_t.crow_indices().dtype == torch.int32
    assert _live_int64_csr() == before
    w = torch.rand(400)
    op = sparse_operator(ei, w, 50, 60)
    dense = torch.zeros(50, 60).index_put_((ei[0], ei[1]), w, accumulate=True)
    x = torch.randn(60, 3)
    assert _live_int64_csr() == before and torch.allclose(op @ x, dense @ x, atol=1e-6)


def test_product_bit_identical_to_torch_sparse_mm():
    """The product is written by ``addmm(beta=0)`` into an uninitialised tensor: the same bits as
    ``torch.sparse.mm``, forward and backward."""
    torch.manual_seed(3)
    ei = torch.stack([torch.randint(0, 40, (300,)), torch.randint(0, 70, (300,))])
    op = sparse_operator(ei, torch.randn(300), 40, 70)
    x = torch.randn(70, 9, requires_grad=True)
    g = torch.randn(40, 9)
    y = op @ x
    (gx,) = torch.autograd.grad(y, x, g)
    assert torch.equal(y, torch.sparse.mm(op.mat, x.detach()))
    assert torch.equal(gx, torch.sparse.mm(op.mat_t, g))
