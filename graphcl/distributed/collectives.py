r"""Differentiable collectives over ``torch.distributed`` and a byte counter for them.

``torch.distributed.nn.functional`` offers the same differentiable ``all_reduce`` but is
deprecated in torch 2.13 (it warns on every call), so the two autograd functions here wrap
the plain collectives themselves:

* :func:`all_reduce_sum` — forward ``sum_r x_r``; backward ``sum_r g_r`` (each rank's input
  feeds every rank's output).
* :func:`all_gather_rows` — forward: the row blocks of every rank, concatenated in rank
  order (unequal blocks are padded to the largest for the transfer); backward: the summed
  gradient of the concatenation, of which each rank keeps its own rows. The backward is an
  all-reduce of ``[N, d]`` (gloo has no reduce-scatter).

Every transfer is added to the active :class:`CommunicationLog` (see
:func:`count_communication`), forward and backward separately.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Dict, Iterator, List, Optional, Sequence

import torch
import torch.distributed as dist
from torch import Tensor

from graphcl.distributed.env import first_line
from graphcl.errors import GraphclDistributedError


class CommunicationLog:
    """Bytes each rank sends into collectives, by label (e.g. ``"meta_nodes"``,
    ``"meta_nodes.backward"``, ``"ddp_gradients"``); counts the payload handed to the
    collective, not the backend's wire traffic (a ring all-reduce moves about twice that)."""

    def __init__(self) -> None:
        self.bytes: Dict[str, int] = defaultdict(int)
        self.calls: Dict[str, int] = defaultdict(int)

    def record(self, label: str, tensor: Tensor) -> None:
        self.bytes[label] += tensor.numel() * tensor.element_size()
        self.calls[label] += 1

    def total(self) -> int:
        return sum(self.bytes.values())


_LOG: Optional[CommunicationLog] = None


@contextlib.contextmanager
def count_communication() -> Iterator[CommunicationLog]:
    """Record the bytes of graphcl's collectives (and of DDP's gradient buckets, when the
    model was wrapped by :func:`graphcl.distributed.wrap_ddp`) inside the ``with`` block."""
    global _LOG
    previous, _LOG = _LOG, CommunicationLog()
    try:
        yield _LOG
    finally:
        _LOG = previous


def record(label: str, tensor: Tensor) -> None:
    """Add ``tensor``'s bytes to the active log, if any."""
    if _LOG is not None:
        _LOG.record(label, tensor)


def _rank(group) -> int:
    return dist.get_rank(group) if dist.is_initialized() else -1


def collective_error(op: str, exc: BaseException, group=None) -> GraphclDistributedError:
    """A clear error for a collective that failed (a peer that exited or timed out)."""
    return GraphclDistributedError(
        f"rank {_rank(group)}: the collective {op!r} failed — another rank probably exited or hung "
        f"(check its log): {first_line(exc)}"
    )


_BACKEND_MARKERS = ("gloo", "nccl", "c10d", "connection", "timed out", "timeout")


def is_communication_error(exc: BaseException) -> bool:
    """Whether an exception raised inside a training step came from the process group (a
    peer that exited or hung) rather than from the computation."""
    if isinstance(exc, dist.DistError):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _BACKEND_MARKERS)


@contextlib.contextmanager
def _failing_clearly(op: str, group) -> Iterator[None]:
    """Turn a backend error inside the block into :func:`collective_error`."""
    try:
        yield
    except RuntimeError as exc:
        raise collective_error(op, exc, group) from exc


def _all_reduce_(t: Tensor, group, label: str) -> Tensor:
    record(label, t)
    with _failing_clearly(f"all_reduce[{label}]", group):
        dist.all_reduce(t, group=group)
    return t


class _AllReduceSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, group, label: str) -> Tensor:  # type: ignore[override]
        ctx.group, ctx.label = group, label
        return _all_reduce_(x.detach().clone().contiguous(), group, label)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return _all_reduce_(grad.clone().contiguous(), ctx.group, ctx.label + ".backward"), None, None


def all_reduce_sum(x: Tensor, group=None, label: str = "all_reduce") -> Tensor:
    r""":math:`\sum_r x_r` over the ranks of ``group``, differentiable when ``x`` requires grad.

    Args:
        x: A tensor of the same shape on every rank.
        group: Process group (``None``: the default one).
        label: Name under which the bytes are counted.
    """
    if x.requires_grad:
        return _AllReduceSum.apply(x, group, label)
    return _all_reduce_(x.detach().clone().contiguous(), group, label)


def all_gather_counts(n: int, group=None, device=None) -> List[int]:
    """Every rank's ``n``, in rank order."""
    t = torch.tensor([n], dtype=torch.long, device=device)
    out = [torch.zeros_like(t) for _ in range(dist.get_world_size(group))]
    record("counts", t)
    with _failing_clearly("all_gather[counts]", group):
        dist.all_gather(out, t, group=group)
    return [int(v) for v in out]


def _gather(x: Tensor, counts: Sequence[int], group, label: str) -> Tensor:
    width = max(counts)
    pad = x.new_zeros((width,) + tuple(x.shape[1:]))
    pad[: x.size(0)] = x
    out = [torch.empty_like(pad) for _ in counts]
    record(label, pad)
    with _failing_clearly(f"all_gather[{label}]", group):
        dist.all_gather(out, pad, group=group)
    return torch.cat([part[:c] for part, c in zip(out, counts)], dim=0)


class _AllGatherRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, counts: Sequence[int], group, label: str) -> Tensor:  # type: ignore[override]
        rank = dist.get_rank(group)
        ctx.start = sum(counts[:rank])
        ctx.stop = ctx.start + counts[rank]
        ctx.group, ctx.label = group, label
        return _gather(x.detach(), counts, group, label)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        total = _all_reduce_(grad.contiguous().clone(), ctx.group, ctx.label + ".backward")
        return total[ctx.start : ctx.stop], None, None, None


def all_gather_rows(x: Tensor, counts: Sequence[int], group=None, label: str = "all_gather") -> Tensor:
    r"""Concatenate every rank's rows in rank order: ``[sum_r n_r, ...]``.

    Differentiable: the gradient of a rank's rows is the sum over ranks of the gradient of
    their copy in the concatenation.

    Args:
        x: ``[n_r, ...]`` this rank's rows.
        counts: ``[n_0, ..., n_{R-1}]``, every rank's row count (see :func:`all_gather_counts`).
        group: Process group.
        label: Name under which the bytes are counted.
    """
    rank = dist.get_rank(group)
    if x.size(0) != counts[rank]:
        raise GraphclDistributedError(f"rank {rank} holds {x.size(0)} rows but counts says {counts[rank]}")
    if x.requires_grad:
        return _AllGatherRows.apply(x, list(counts), group, label)
    return _gather(x, counts, group, label)
