"""Input checks shared by every public entry point.

Each check raises :class:`graphcl.GraphclInputError` with a message that names the
offending argument, and returns the (possibly converted) value so calls can be chained.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from graphcl.errors import GraphclInputError


def check_features(x: Tensor, name: str = "x") -> Tensor:
    """Check a node feature matrix: a non-empty 2-D floating tensor with finite values.

    Args:
        x: Feature matrix of shape ``[N, d]``.
        name: Name used in error messages.

    Returns:
        ``x`` itself (floating dtypes are kept; integer or bool input is cast to float32).
    """
    if not isinstance(x, Tensor):
        raise GraphclInputError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise GraphclInputError(f"{name} must be 2-D [num_nodes, num_features], got shape {tuple(x.shape)}")
    if x.size(0) == 0:
        raise GraphclInputError(f"{name} is empty: the graph has no nodes")
    if x.size(1) == 0:
        raise GraphclInputError(f"{name} has no feature columns (shape {tuple(x.shape)})")
    if not torch.is_floating_point(x):
        x = x.float()
    # Row chunks bound the temporary mask (x may be a memory-mapped matrix larger than memory).
    chunk = max(1, (1 << 24) // x.size(1))
    if not all(bool(torch.isfinite(part).all()) for part in x.split(chunk)):
        bad = torch.cat([(~torch.isfinite(part)).any(dim=1) for part in x.split(chunk)]).nonzero().view(-1)
        raise GraphclInputError(
            f"{name} contains NaN or Inf values in {bad.numel()} row(s), first at row {int(bad[0])}"
        )
    return x


def check_edge_index(edge_index: Tensor, num_nodes: int, name: str = "edge_index") -> Tensor:
    """Check a COO edge index: integer tensor of shape ``[2, E]`` with ids in ``[0, num_nodes)``."""
    if not isinstance(edge_index, Tensor):
        raise GraphclInputError(f"{name} must be a torch.Tensor, got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphclInputError(f"{name} must have shape [2, num_edges], got {tuple(edge_index.shape)}")
    if torch.is_floating_point(edge_index) or edge_index.dtype == torch.bool or edge_index.is_complex():
        raise GraphclInputError(f"{name} must hold integers (torch.long), got dtype {edge_index.dtype}")
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0:
            raise GraphclInputError(f"{name} holds a negative node id ({lo})")
        if hi >= num_nodes:
            raise GraphclInputError(
                f"{name} holds node id {hi}, out of range for a graph with {num_nodes} nodes"
            )
    return edge_index.long()


def check_edge_weight(
    edge_weight: Optional[Tensor], num_edges: int, name: str = "edge_weight"
) -> Optional[Tensor]:
    """Check optional per-edge weights: a finite, non-negative 1-D tensor of length ``E``."""
    if edge_weight is None:
        return None
    if not isinstance(edge_weight, Tensor):
        raise GraphclInputError(f"{name} must be a torch.Tensor, got {type(edge_weight).__name__}")
    if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
        raise GraphclInputError(
            f"{name} must have shape [{num_edges}] (one weight per edge), got {tuple(edge_weight.shape)}"
        )
    if not torch.is_floating_point(edge_weight):
        edge_weight = edge_weight.float()
    if not bool(torch.isfinite(edge_weight).all()):
        raise GraphclInputError(f"{name} contains NaN or Inf values")
    if bool((edge_weight < 0).any()):
        raise GraphclInputError(f"{name} contains negative weights")
    return edge_weight


def check_n_clusters(n_clusters: int, num_nodes: Optional[int] = None, name: str = "n_clusters") -> int:
    """Check a cluster count: an integer ``>= 2`` and, when known, ``<= num_nodes``."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int):
        raise GraphclInputError(f"{name} must be an integer, got {n_clusters!r}")
    if n_clusters < 2:
        raise GraphclInputError(f"{name} must be at least 2, got {n_clusters}")
    if num_nodes is not None and num_nodes < 2:
        raise GraphclInputError(f"the graph has only {num_nodes} node: clustering needs at least 2 nodes")
    if num_nodes is not None and n_clusters > num_nodes:
        raise GraphclInputError(f"{name}={n_clusters} exceeds the number of nodes ({num_nodes})")
    return n_clusters


def check_int(value: int, name: str, minimum: int = 1, allow_none: bool = False) -> Optional[int]:
    """Check an integer argument ``>= minimum`` (``bool`` and floats are refused); ``None`` too
    when ``allow_none``. The message names the argument and the accepted values."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise GraphclInputError(f"{name} must be {'None or ' if allow_none else ''}{what}, got {value!r}")
    return value


def check_positive(value: float, name: str) -> float:
    """Check a strictly positive finite number (temperature, learning rate, ...)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GraphclInputError(f"{name} must be a number, got {value!r}") from None
    if not v > 0 or v == float("inf"):
        raise GraphclInputError(f"{name} must be a positive finite number, got {value!r}")
    return v


def check_labels(y_true, y_pred, names: tuple[str, str] = ("y_true", "y_pred")):
    """Check two label vectors: 1-D, same length, integer-valued. Returns numpy copies."""
    import numpy as np

    arrays = []
    for arr, nm in zip((y_true, y_pred), names):
        if isinstance(arr, Tensor):
            arr = arr.detach().cpu().numpy()
        a = np.asarray(arr)
        if a.ndim != 1:
            raise GraphclInputError(f"{nm} must be 1-D, got shape {a.shape}")
        if a.size == 0:
            raise GraphclInputError(f"{nm} is empty")
        if a.dtype.kind == "f":
            if not np.isfinite(a).all() or not (a == np.round(a)).all():
                raise GraphclInputError(f"{nm} must hold integer labels")
            a = a.astype(np.int64)
        elif a.dtype.kind not in "iub":
            raise GraphclInputError(f"{nm} must hold integer labels, got dtype {a.dtype}")
        arrays.append(a.astype(np.int64, copy=True))
    if arrays[0].shape[0] != arrays[1].shape[0]:
        raise GraphclInputError(
            f"{names[0]} and {names[1]} have different lengths ({arrays[0].shape[0]} vs {arrays[1].shape[0]})"
        )
    return arrays[0], arrays[1]
