r"""Sparse operators built once and applied many times (``A @ X`` with a CSR matrix)."""

from __future__ import annotations

import warnings
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError
from graphcl.validation import check_int


class SparseOperator:
    r"""A sparse matrix :math:`A` ``[R, C]`` kept in CSR together with its transpose, so that
    ``A @ x`` and its backward (``A^T @ grad``) are both plain CSR products: torch's own
    backward of a CSR product re-sorts the matrix on every call, which dominated MEOW's epochs.

    A symmetric matrix is its own transpose and is stored once (``mat_t is mat``); indices are
    32-bit while the shape and ``nnz`` fit (8 instead of 12 bytes per stored entry with float32
    values). Use ``op @ x`` (or :func:`spmm`); ``op.to(device)`` moves both copies.
    """

    def __init__(self, mat: Tensor, mat_t: Tensor) -> None:
        self.mat, self.mat_t = mat, mat_t

    @property
    def shape(self) -> torch.Size:
        return self.mat.shape

    def nnz(self) -> int:
        return int(self.mat._nnz())

    def to(self, device: Union[str, torch.device]) -> "SparseOperator":
        mat = self.mat.to(device)
        return SparseOperator(mat, mat if self.mat_t is self.mat else self.mat_t.to(device))

    def coo(self) -> Tuple[Tensor, Tensor]:
        """``(edge_index [2, nnz], values [nnz])`` in row-major order."""
        crow = self.mat.crow_indices()
        rows = torch.repeat_interleave(torch.arange(crow.numel() - 1, device=crow.device), (crow[1:] - crow[:-1]).long())
        return torch.stack([rows, self.mat.col_indices().long()]), self.mat.values()

    def __matmul__(self, x: Tensor) -> Tensor:
        return _CSRMatMul.apply(self.mat, self.mat_t, x)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(shape={tuple(self.shape)}, nnz={self.nnz()})"


class _CSRMatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mat: Tensor, mat_t: Tensor, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.mat_t = mat_t
        return _csr_mm(mat, x)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return None, None, _csr_mm(ctx.mat_t, grad.contiguous())


def _csr_mm(mat: Tensor, x: Tensor) -> Tensor:
    """``mat @ x`` written straight into a new tensor: ``torch.sparse.mm`` zero-fills a result,
    accumulates into a temporary and copies it over (two extra passes over ``[R, d]``, a
    quarter of the product's time on CPU); ``addmm`` with ``beta=0`` ignores its uninitialised
    input (no NaN from it can propagate). The same values, bit for bit."""
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.addmm(x.new_empty(mat.size(0), x.size(1)), mat, x, beta=0.0)


_INT32_MAX = 2**31 - 1


def _to_csr(edge_index: Tensor, value: Tensor, shape: Tuple[int, int]) -> Tensor:
    """Coalesced CSR (duplicates summed), with 32-bit indices when the shape and ``nnz`` allow."""
    coo = torch.sparse_coo_tensor(edge_index, value, shape, check_invariants=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        csr = coo.coalesce().to_sparse_csr()
        if max(shape) <= _INT32_MAX and csr.values().numel() <= _INT32_MAX:
            # values() is a view whose base is the 64-bit CSR: detached (same storage, no copy) so
            # that the 64-bit index arrays are freed, not kept alive by the 32-bit matrix's values
            csr = torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values().detach(),
                                          shape)
        return csr


def _same(a: Tensor, b: Tensor) -> bool:
    return (a.shape == b.shape and torch.equal(a.crow_indices(), b.crow_indices())
            and torch.equal(a.col_indices(), b.col_indices()) and torch.equal(a.values(), b.values()))


def sparse_operator(
    edge_index: Tensor, edge_weight: Optional[Tensor], num_rows: int, num_cols: Optional[int] = None
) -> SparseOperator:
    r"""The sparse matrix :math:`A` with :math:`A_{ij} = w` for each entry ``(i, j, w)``.

    Duplicate entries are summed. Built once (the sorts are paid here), then ``op @ x`` costs
    ``O(nnz · d)`` per call, forward and backward, with no per-edge copy of ``x``; gradients
    flow into ``x``. A symmetric ``A`` (a normalised undirected adjacency) is stored once,
    serving as its own transpose, and indices are 32-bit below :math:`2^{31}` rows and entries:
    together about half the memory of two 64-bit-indexed copies, the same products bit for bit.

    Args:
        edge_index: ``[2, nnz]`` (row, column) indices.
        edge_weight: ``[nnz]`` values, or ``None`` for ones.
        num_rows: Number of rows.
        num_cols: Number of columns (default ``num_rows``).

    Returns:
        A :class:`SparseOperator` ``[num_rows, num_cols]``.
    """
    num_rows = check_int(num_rows, "num_rows", minimum=0)
    num_cols = num_rows if num_cols is None else check_int(num_cols, "num_cols", minimum=0)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphclInputError(f"edge_index must have shape [2, nnz], got {tuple(edge_index.shape)}")
    if edge_index.numel() and (int(edge_index[0].max()) >= num_rows or int(edge_index[1].max()) >= num_cols or int(edge_index.min()) < 0):
        raise GraphclInputError(f"edge_index has entries outside a [{num_rows}, {num_cols}] matrix")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), device=edge_index.device)
    mat = _to_csr(edge_index, edge_weight, (num_rows, num_cols))
    mat_t = _to_csr(edge_index.flip(0), edge_weight, (num_cols, num_rows))
    return SparseOperator(mat, mat if _same(mat, mat_t) else mat_t)


def spmm(op: SparseOperator, x: Tensor) -> Tensor:
    """``op @ x`` for a :class:`SparseOperator` ``[R, C]`` and a dense ``x`` ``[C, d]`` -> ``[R, d]``."""
    return op @ x


def row_mean_operator(edge_index: Tensor, num_rows: int, num_cols: int) -> SparseOperator:
    r"""The operator of per-row means over an incidence: :math:`M_{iu} = 1/\max(1, |N(i)|)` for
    each (deduplicated) pair ``(i, u)``, so ``(M @ h)[i]`` is the mean of ``h`` over ``N(i)``
    (zero for an empty row)."""
    ei = sparse_operator(edge_index, None, num_rows, num_cols).coo()[0]  # deduplicated, row-major
    deg = torch.bincount(ei[0], minlength=num_rows).clamp_min(1).to(torch.float32)
    return sparse_operator(ei, 1.0 / deg[ei[0]], num_rows, num_cols)
