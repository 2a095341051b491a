"""Joining a ``torch.distributed`` process group from the ``torchrun`` environment."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist

from graphcl.errors import GraphclDistributedError

#: Seconds to wait for every rank to join (a missing rank is an error after this long).
DEFAULT_INIT_TIMEOUT = 30.0
#: Seconds one collective may wait for the other ranks. Long, because rank 0 pretrains the
#: autoencoder while the others wait; a rank that *exits* is detected at once (its socket
#: closes), so this only bounds a rank that hangs while alive.
DEFAULT_COLLECTIVE_TIMEOUT = 1800.0

_REQUIRED_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """The process group graphcl trains on.

    Attributes:
        rank: This process's rank in ``[0, world_size)``.
        world_size: Number of processes.
        local_rank: Rank on this machine (selects the GPU).
        group: The process group of DDP's gradient all-reduce (created with the collective
            timeout).
        loss_group: A second group, for graphcl's loss collectives (meta-node sums,
            embeddings): they run inside the backward pass while DDP's bucket all-reduces are
            in flight, and a group of their own keeps the two streams from interleaving
            differently on different ranks.
        device: ``cuda:<local_rank>`` when the backend is NCCL, else CPU.
    """

    rank: int
    world_size: int
    local_rank: int
    group: Optional[dist.ProcessGroup]
    loss_group: Optional[dist.ProcessGroup]
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


_CONTEXT: Optional[DistributedContext] = None


def init_from_env(
    backend: Optional[str] = None,
    *,
    init_timeout: float = DEFAULT_INIT_TIMEOUT,
    collective_timeout: float = DEFAULT_COLLECTIVE_TIMEOUT,
) -> DistributedContext:
    """Join the process group described by ``torchrun``'s environment variables.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``.
    Idempotent: a second call returns the same context.

    Args:
        backend: ``"gloo"`` or ``"nccl"``; default NCCL when CUDA is available, else gloo.
        init_timeout: Seconds to wait for every rank to join before raising.
        collective_timeout: Seconds a collective may wait for the other ranks.

    Returns:
        The :class:`DistributedContext`.

    Raises:
        GraphclDistributedError: a variable is missing, or the group does not form within
            ``init_timeout`` (a rank that never started, a wrong address or port).
    """
    global _CONTEXT
    if _CONTEXT is not None and dist.is_initialized():
        return _CONTEXT
    missing = [key for key in _REQUIRED_ENV if key not in os.environ]
    if missing:
        raise GraphclDistributedError(
            f"environment variables {missing} are not set: launch with torchrun "
            "(e.g. `torchrun --nproc_per_node=2 script.py`) or set them yourself"
        )
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise GraphclDistributedError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    if not dist.is_initialized():
        try:
            dist.init_process_group(backend, rank=rank, world_size=world,
                                    timeout=datetime.timedelta(seconds=init_timeout))
        except (RuntimeError, ValueError) as exc:
            raise GraphclDistributedError(
                f"rank {rank}: the process group of {world} ranks did not form within {init_timeout:g} s at "
                f"{where} (did every rank start, with the same MASTER_ADDR/MASTER_PORT?): {first_line(exc)}"
            ) from exc
    timeout = datetime.timedelta(seconds=collective_timeout)
    group = dist.new_group(backend=backend, timeout=timeout)
    loss_group = dist.new_group(backend=backend, timeout=timeout)
    _CONTEXT = DistributedContext(rank, world, local_rank, group, loss_group, device)
    return _CONTEXT


def current_context() -> DistributedContext:
    """The context of :func:`init_from_env`.

    Raises:
        GraphclDistributedError: no process group has been joined.
    """
    if _CONTEXT is None or not dist.is_initialized():
        raise GraphclDistributedError(
            "no process group: call graphcl.distributed.init_from_env() (under torchrun) before "
            "fitting with distributed=True"
        )
    return _CONTEXT


def shutdown() -> None:
    """Leave the process group (safe to call when none was joined)."""
    global _CONTEXT
    if dist.is_initialized():
        dist.destroy_process_group()
    _CONTEXT = None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (c10d appends C++ stack traces)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
