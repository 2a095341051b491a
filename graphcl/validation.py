"""Input checks shared by every public entry point.

Each check raises :class:`graphcl.GraphclInputError` with a message that names the
offending argument, and returns the (possibly converted) value so calls can be chained.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
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
    if not _is_integer(n_clusters):
        raise GraphclInputError(f"{name} must be an integer, got {n_clusters!r}")
    n_clusters = int(n_clusters)
    if n_clusters < 2:
        raise GraphclInputError(f"{name} must be at least 2, got {n_clusters}")
    if num_nodes is not None and num_nodes < 2:
        raise GraphclInputError(f"the graph has only {num_nodes} node: clustering needs at least 2 nodes")
    if num_nodes is not None and n_clusters > num_nodes:
        raise GraphclInputError(f"{name}={n_clusters} exceeds the number of nodes ({num_nodes})")
    return n_clusters


def _is_integer(value: Any) -> bool:
    """A Python or NumPy integer (``bool`` and ``np.bool_`` excluded)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(value: Any, name: str, minimum: Optional[int] = 1, maximum: Optional[int] = None,
              allow_none: bool = False) -> Optional[int]:
    """Check an integer argument in ``[minimum, maximum]`` and return it as a Python ``int``.

    Python and NumPy integers are accepted (``np.int64(3)`` as ``3``); ``bool``, floats
    (``3.0`` too) and strings are refused; ``None`` only when ``allow_none``. ``minimum=None``
    means no lower bound. The message names the argument and the accepted values.
    """
    if value is None and allow_none:
        return None
    ok = _is_integer(value) and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        if minimum is None:
            what = "an integer" if maximum is None else f"an integer <= {maximum}"
        elif maximum is not None:
            what = f"an integer in [{minimum}, {maximum}]"
        else:
            what = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        raise GraphclInputError(f"{name} must be {'None or ' if allow_none else ''}{what}, got {value!r}")
    return int(value)


def check_float(value: Any, name: str, minimum: Optional[float] = None, maximum: Optional[float] = None, *,
                min_inclusive: bool = True, max_inclusive: bool = True, allow_none: bool = False) -> Optional[float]:
    """Check a finite real number in a range and return it as a Python ``float``.

    Python/NumPy integers and floats are accepted; ``bool`` and strings are refused (a string
    such as ``"1e-3"`` usually means a YAML file wrote ``1e-3`` without a dot, which YAML 1.1
    reads as text: the message says so). ``minimum``/``maximum`` bound the value, inclusively
    unless ``min_inclusive``/``max_inclusive`` is ``False``.

    Examples:
        ``check_float(t, "temperature", 0, min_inclusive=False)`` (``t > 0``);
        ``check_float(p, "dropout", 0, 1, max_inclusive=False)`` (``0 <= p < 1``).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        hint = " (in a YAML file write 1.0e-3, not 1e-3, which YAML reads as text)" if _looks_numeric(value) else ""
        raise GraphclInputError(f"{name} must be a number, got the string {value!r}{hint}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise GraphclInputError(f"{name} must be {'None or ' if allow_none else ''}a number, got {value!r}")
    v = float(value)
    lo_ok = minimum is None or (v >= minimum if min_inclusive else v > minimum)
    hi_ok = maximum is None or (v <= maximum if max_inclusive else v < maximum)
    if not math.isfinite(v) or not lo_ok or not hi_ok:
        lo = "" if minimum is None else f"{'[' if min_inclusive else '('}{minimum:g}"
        hi = "" if maximum is None else f"{maximum:g}{']' if max_inclusive else ')'}"
        if minimum is not None and maximum is not None:
            what = f"a number in {lo}, {hi}"
        elif minimum is not None:
            what = f"a finite number {'>=' if min_inclusive else '>'} {minimum:g}"
        elif maximum is not None:
            what = f"a finite number {'<=' if max_inclusive else '<'} {maximum:g}"
        else:
            what = "a finite number"
        raise GraphclInputError(f"{name} must be {what}, got {value!r}")
    return v


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_positive(value: Any, name: str) -> float:
    """Check a strictly positive finite number (temperature, learning rate, ...)."""
    return check_float(value, name, 0.0, min_inclusive=False)


def check_bool(value: Any, name: str) -> bool:
    """Check a ``True``/``False`` flag (NumPy booleans accepted; ``0``/``1`` and strings refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise GraphclInputError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``choices``."""
    if value not in tuple(choices):
        raise GraphclInputError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_writable_file(path: Any, name: str) -> Path:
    """Check, before any work starts, that a file can be written at ``path``: not a folder,
    its parent folder exists or can be created, and that folder is writable. Returns the path.
    """
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise GraphclInputError(f"{name} must be a file path, got {path!r}")
    p = Path(path)
    if p.is_dir():
        raise GraphclInputError(f"{name} {str(p)!r} is a folder: give a file path")
    _check_creatable(p, p.parent if str(p.parent) else Path("."), name)
    if p.exists() and not os.access(p, os.W_OK):
        raise GraphclInputError(f"{name} {str(p)!r} exists and is not writable")
    return p


def check_writable_dir(path: Any, name: str) -> Path:
    """Check, before any work starts, that ``path`` is (or can be created as) a writable folder."""
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise GraphclInputError(f"{name} must be a folder path, got {path!r}")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise GraphclInputError(f"{name} {str(p)!r} is a file, not a folder")
    _check_creatable(p, p, name)
    return p


def _check_creatable(p: Path, folder: Path, name: str) -> None:
    """``folder`` (the folder ``p`` needs) exists as a writable folder, or its nearest existing
    ancestor is one, so that it can be created."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise GraphclInputError(f"{name} {str(p)!r}: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GraphclInputError(f"{name} {str(p)!r}: the folder {str(existing)!r} is not writable")


def check_labels(y_true, y_pred, names: tuple[str, str] = ("y_true", "y_pred")):
    """Check two label vectors: 1-D, same length, integer-valued. Returns numpy copies."""

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
