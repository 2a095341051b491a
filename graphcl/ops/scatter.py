"""Scatter reduction with a pluggable back-end.

``torch_scatter`` is used when it is installed (it has fused CPU/CUDA kernels); otherwise
:func:`torch_geometric.utils.scatter` is used. Both give the same results; the choice can be
forced with :func:`set_scatter_backend` (tests cover both paths).
"""

from __future__ import annotations

import importlib
from typing import Optional

from torch import Tensor

from graphcl.errors import GraphclInputError

_BACKEND: Optional[str] = None  # None = auto


def torch_scatter_available() -> bool:
    """Whether the optional ``torch_scatter`` extension can be imported."""
    try:
        importlib.import_module("torch_scatter")
    except Exception:  # ImportError, or an ABI mismatch raising OSError/RuntimeError
        return False
    return True


def set_scatter_backend(name: Optional[str]) -> None:
    """Force the scatter back-end: ``"torch_scatter"``, ``"pyg"`` or ``None`` (automatic)."""
    global _BACKEND
    if name not in (None, "torch_scatter", "pyg"):
        raise GraphclInputError(f"unknown scatter backend {name!r}; use 'torch_scatter', 'pyg' or None")
    if name == "torch_scatter" and not torch_scatter_available():
        raise GraphclInputError("scatter backend 'torch_scatter' requested but torch_scatter is not installed")
    _BACKEND = name


def get_scatter_backend() -> str:
    """The back-end :func:`scatter` uses now: ``"torch_scatter"`` or ``"pyg"``."""
    if _BACKEND is not None:
        return _BACKEND
    return "torch_scatter" if torch_scatter_available() else "pyg"


def scatter(
    src: Tensor, index: Tensor, dim: int = 0, dim_size: Optional[int] = None, reduce: str = "sum"
) -> Tensor:
    """Reduce ``src`` into ``dim_size`` slots along ``dim`` by ``index``.

    Args:
        src: Values, e.g. per-edge messages of shape ``[E, ...]``.
        index: Slot of each entry along ``dim``, shape ``[E]``.
        dim: Dimension to reduce along.
        dim_size: Number of output slots (default ``index.max() + 1``).
        reduce: ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``. Empty slots are 0.

    Returns:
        Tensor with ``src``'s shape except ``dim_size`` along ``dim``.
    """
    if get_scatter_backend() == "torch_scatter":
        import torch_scatter

        out = torch_scatter.scatter(src, index, dim=dim, dim_size=dim_size, reduce=reduce)
        return out
    from torch_geometric.utils import scatter as pyg_scatter

    return pyg_scatter(src, index, dim=dim, dim_size=dim_size, reduce=reduce)
