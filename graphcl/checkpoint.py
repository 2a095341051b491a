"""Checkpoint files: a training state to resume from, or a fitted estimator to reload.

A checkpoint is one ``torch.save`` file holding a dict: ``format`` (``"graphcl"``), ``kind``
(``"training"`` or ``"fitted"``), the package ``version``, the estimator ``class`` and its
``params``, and the estimator's state (network weights, optimizer state, cluster centres,
epoch, loss history, RNG states, and for a fitted estimator its result attributes). Tensors
are stored on the CPU, so a file loads on any device. Files are written atomically (a
temporary file of a unique name beside it, then a rename): a run killed while writing leaves the
previous checkpoint.

Loading unpickles Python objects (as ``torch.load(weights_only=False)`` does): load only
checkpoints you trust.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Union

import torch

from graphcl.errors import GraphclInputError

__all__ = ["final_training_state", "non_finite_error", "load_checkpoint", "read_training_state", "restore_training_state", "save_checkpoint", "write_training_state"]

FORMAT = "graphcl"
PathLike = Union[str, os.PathLike]


def to_cpu(obj: Any) -> Any:
    """A copy of nested dicts/lists/tuples with every tensor moved to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def _file_mode(path: Path) -> int:
    """The permission bits a new file at ``path`` gets: those of the file it replaces, else the
    default for a new file under the process's umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_checkpoint(payload: Dict[str, Any], path: PathLike) -> Path:
    """Write ``payload`` (plus the format and version tags) atomically to ``path``.

    The data goes to a temporary file of a unique name in ``path``'s folder (so two runs sharing
    one checkpoint path never write into the same temporary file), which then replaces
    ``path``; on any failure the temporary file is removed and ``path`` keeps its previous
    content.

    Raises:
        GraphclInputError: ``path`` is a folder, or its folder cannot be created or written
            (the message names ``path``, never the temporary file).
    """
    from graphcl import __version__

    path = Path(path)
    if path.is_dir():
        raise GraphclInputError(f"checkpoint {str(path)!r} is a folder: give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise GraphclInputError(f"checkpoint {str(path)!r} cannot be written: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": FORMAT, "version": __version__, **to_cpu(payload)}, fh)
        os.chmod(tmp, _file_mode(path))  # mkstemp makes the file private (0600)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise GraphclInputError(f"checkpoint {str(path)!r} cannot be written: {exc.strerror or exc}") from None
        raise
    return path


def load_checkpoint(path: PathLike, kind: str | None = None) -> Dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors on the CPU).

    Raises:
        GraphclInputError: The file is missing, unreadable, not a graphcl checkpoint, or of
            another ``kind``.
    """
    path = Path(path)
    if not path.is_file():
        raise GraphclInputError(f"checkpoint file {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        raise GraphclInputError(f"checkpoint file {path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise GraphclInputError(f"checkpoint file {path} is not a graphcl checkpoint")
    if kind is not None and payload.get("kind") != kind:
        raise GraphclInputError(f"checkpoint file {path} holds a {payload.get('kind')!r} state, expected {kind!r}")
    return payload


#: Estimator parameters that may differ between a checkpoint and the run resuming from it.
RUNTIME_PARAMS = ("progress", "epoch_log", "max_hours", "checkpoint", "checkpoint_every", "device", "cache", "epochs", "max_epochs",
                  "distributed")


def write_training_state(est: Any, epoch: int, history: list, modules: Dict[str, Any], optimizer: torch.optim.Optimizer,
                         graph: Dict[str, Any], extra: Dict[str, Any] | None = None) -> None:
    """Save ``est``'s training state after ``epoch`` to ``est.checkpoint``.

    Args:
        modules: Name -> ``nn.Module`` (``None`` entries are skipped).
        graph: Facts about the training graph a resume must match (e.g. node counts).
        extra: Further state (e.g. a mini-batch generator's, the patience counter).
    """
    import logging

    save_checkpoint({
        "kind": "training", "class": type(est).__name__, "params": est.get_params(), "epoch": epoch,
        "history": history, "graph": graph, "state": {k: m.state_dict() for k, m in modules.items() if m is not None},
        "optimizer": optimizer.state_dict(), "rng": {"torch": torch.random.get_rng_state()}, "extra": extra or {},
    }, est.checkpoint)
    logging.getLogger("graphcl").info("%s: checkpoint of epoch %d written to %s", type(est).__name__, epoch, est.checkpoint)


def read_training_state(est: Any, path: PathLike, graph: Dict[str, Any], max_epochs: int) -> Dict[str, Any]:
    """Load a training checkpoint and check that ``est`` (same class, same settings apart from
    :data:`RUNTIME_PARAMS`) on the same ``graph`` can continue it."""
    state = load_checkpoint(path, "training")
    if state["class"] != type(est).__name__:
        raise GraphclInputError(f"checkpoint {path} is of a {state['class']}, not a {type(est).__name__}")
    mine, theirs = est.get_params(), state["params"]
    differ = sorted(k for k in mine if k not in RUNTIME_PARAMS and mine.get(k) != theirs.get(k))
    if differ:
        raise GraphclInputError(f"checkpoint {path} was written with other settings: {differ}")
    if state["graph"] != graph:
        raise GraphclInputError(f"checkpoint {path} is of another graph ({state['graph']}, this one is {graph})")
    if state["epoch"] + 1 > max_epochs:
        raise GraphclInputError(f"checkpoint {path} is at epoch {state['epoch']}, past the {max_epochs} epochs asked for")
    return state


def restore_training_state(state: Dict[str, Any], modules: Dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
    """Load a checkpoint's weights, optimizer state and torch RNG state (in place)."""
    for key, module in modules.items():
        if module is not None:
            module.load_state_dict(state["state"][key])
    optimizer.load_state_dict(state["optimizer"])
    torch.random.set_rng_state(state["rng"]["torch"])


def final_training_state(est: Any) -> Dict[str, Any]:
    """What a fitted estimator's file keeps of its training: the optimizer state at the last
    epoch (``None`` when not kept, e.g. after distributed training), that epoch, and the torch
    RNG state at save time."""
    optimizer = getattr(est, "_optimizer", None)
    return {"optimizer": None if optimizer is None else optimizer.state_dict(),
            "epoch": len(getattr(est, "loss_history_", [])) - 1, "rng": {"torch": torch.random.get_rng_state()}}


def non_finite_error(epoch: int, terms: Dict[str, float], checkpoint: Any, last_saved: int | None) -> FloatingPointError:
    """The error a training loop raises when its loss becomes non-finite: it names the epoch and,
    when one was written, the last good checkpoint (which stays in place)."""
    kept = f"; the last good checkpoint (epoch {last_saved}) is {checkpoint}" if last_saved is not None else ""
    return FloatingPointError(f"the training loss became non-finite at epoch {epoch}: {terms}{kept}")


def due(est: Any, epoch: int, last_epoch: int) -> bool:
    """Whether ``est`` checkpoints after ``epoch`` (every ``checkpoint_every``, and the last)."""
    return bool(est.checkpoint) and ((epoch + 1) % est.checkpoint_every == 0 or epoch == last_epoch)
