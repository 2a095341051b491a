r"""The estimator core every model derives from: seeds, the epoch loop, checkpoints, save/load.

:class:`GraphclEstimator` is a scikit-learn estimator (``get_params``/``set_params``/``clone``
work) that gives a model, in one place:

* **seeded RNG isolation** — :meth:`GraphclEstimator._seeded` runs the fit under
  ``torch.manual_seed(seed)`` and restores the caller's global torch RNG afterwards;
  ``random_state`` may be an int, ``None`` (a fresh seed, recorded in ``random_state_``) or a
  NumPy ``Generator``/``RandomState`` (one draw);
* **the epoch loop** — :meth:`GraphclEstimator.run_epochs`: progress bar, per-epoch log,
  checkpoints every ``checkpoint_every`` epochs, a stop on a non-finite loss naming the epoch
  and the last good checkpoint, an optional label-free stopping rule (:class:`Patience`);
* **training checkpoints** — the state of a run (modules, optimizer, RNG, epoch, loss history,
  extra state) tied to a fingerprint of the graph, so ``fit(data, resume=path)`` continues
  exactly and refuses a checkpoint of another graph, even one of the same size;
* **save/load** of a fitted estimator (:meth:`save`, :meth:`load`, :func:`load_estimator`);
* fitted checks and the warning when fewer than ``n_clusters`` clusters receive nodes;
* deprecated argument names (:attr:`GraphclEstimator.deprecated_names`), accepted with a
  :class:`DeprecationWarning` for one release.

A model implements ``fit`` (usually: validate, then ``self._seeded(self._fit_seeded, ...)``),
:meth:`_fitted_modules` and :meth:`_from_checkpoint`; see ``docs/extending.md`` for a worked
example. Models are listed in :mod:`graphcl.registry`.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import os
import time
import warnings
from typing import Any, Callable, ClassVar, Dict, Iterable, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin
from torch import Tensor

from graphcl.checkpoint import (
    due,
    final_training_state,
    load_checkpoint,
    non_finite_error,
    read_training_state,
    restore_training_state,
    save_checkpoint,
    write_training_state,
)
from graphcl.errors import GraphclInputError
from graphcl.progress import EpochMonitor
from graphcl.registry import by_class_name
from graphcl.validation import check_bool, check_int, check_writable_file

log = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]
Terms = Dict[str, float]


def resolve_device(device: Union[str, torch.device, None]) -> torch.device:
    """``"auto"``/``None`` -> CUDA when available, else CPU; anything else as given.

    Raises:
        GraphclInputError: Not a device name, or CUDA asked for but not available.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise GraphclInputError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GraphclInputError(f"device={device!r} requested but CUDA is not available")
    if dev.type not in ("cpu", "cuda"):
        raise GraphclInputError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    return dev


def graph_fingerprint(tensors: Iterable[Optional[Tensor]]) -> str:
    """A BLAKE2b digest of the shapes, dtypes and bytes of ``tensors`` (``None`` entries count as
    such): what a training checkpoint records so that a resume on another graph of the same size
    is refused. One pass over the data (about 1 s per GB)."""
    h = hashlib.blake2b(digest_size=16)
    for t in tensors:
        if t is None:
            h.update(b"none;")
            continue
        arr = np.ascontiguousarray(t.detach().cpu().numpy())
        h.update(f"{arr.dtype}{arr.shape};".encode())
        h.update(arr.data)
    return h.hexdigest()


def seed_from(random_state: Any, name: str = "random_state") -> int:
    """An integer seed in ``[0, 2**32)`` from an int, ``None`` (fresh entropy) or a NumPy
    ``Generator``/``RandomState`` (one draw)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**32))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**32, dtype=np.int64))
    try:
        return check_int(random_state, name, minimum=0, maximum=2**32 - 1)
    except GraphclInputError:
        raise GraphclInputError(f"{name} must be an integer in [0, 2**32 - 1], None, or a numpy.random.Generator, "
                                f"got {random_state!r}") from None


class Patience:
    """The label-free stopping rule: stop once the loss has not improved on its best value for
    ``patience`` epochs, but never before ``min_epochs`` epochs have run, nor before the loss has
    fallen at least ``min_decrease`` (a fraction of the first epoch's loss magnitude) below the
    first epoch's loss.

    ``min_decrease`` is the warm-up: a loss that sits on a plateau for its first epochs (a small
    learning rate; MEOW on IMDB) cannot end training before it has trained at all, however long
    the plateau; ``patience`` counts only from then on (the counter restarts at the new best
    that arms it). A loss that never falls that far trains until the estimator's ``epochs``.
    ``patience=None`` never stops. Its state (first and best loss, epochs since the best) goes
    into checkpoints.
    """

    def __init__(self, patience: Optional[int], min_epochs: int = 0, min_decrease: float = 0.0) -> None:
        self.patience, self.min_epochs, self.min_decrease = patience, min_epochs, min_decrease
        self.first: Optional[float] = None
        self.best, self.wait = float("inf"), 0

    @property
    def armed(self) -> bool:
        """Whether the loss has fallen by ``min_decrease`` (patience may stop training)."""
        if self.min_decrease <= 0:
            return True
        return self.first is not None and self.first - self.best >= self.min_decrease * abs(self.first)

    def stops(self, epochs_run: int) -> bool:
        """Whether training stops after ``epochs_run`` epochs (with the current counters)."""
        return (self.patience is not None and self.wait >= self.patience and epochs_run >= self.min_epochs
                and self.armed)

    def update(self, loss: float, epochs_run: int) -> bool:
        """Record the loss of the latest epoch; returns :meth:`stops`."""
        if self.first is None:
            self.first = loss
        if loss < self.best:
            self.best, self.wait = loss, 0
        else:
            self.wait += 1
        return self.stops(epochs_run)

    def state_dict(self) -> Dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "first": self.first}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best, self.wait = state["best"], state["wait"]
        self.first = state.get("first")  # checkpoints written before min_decrease: the next epoch's loss


class EmbeddingConvergence(Patience):
    r"""The label-free stopping rule on the embedding instead of the loss: every ``every``
    epochs the (eval-mode) embedding of a fixed sample of nodes is compared with the previous
    check's, and training stops once it has moved by less than ``tol``,

    .. math::
        \delta_t = 1 - \frac{1}{|S|}\sum_{i \in S} \cos\big(z_i^{(t)}, z_i^{(t - \text{every})}\big) < \mathrm{tol},

    but never before ``min_epochs`` nor before the loss has fallen by ``min_decrease`` (the
    warm-up of :class:`Patience`). For a loss too noisy for patience to read (a per-epoch
    k-means and meta-node negatives): its noise ends training at a lucky minimum while the
    representation is still moving. ``embed`` returns the sample's embedding ``[|S|, d]``; the
    drift of every check is kept in ``drifts`` (epoch, :math:`\delta`). Its state (the last
    check's sample embedding included) goes into checkpoints.
    """

    def __init__(self, embed: Callable[[], Tensor], every: int = 10, tol: float = 0.01, min_epochs: int = 0,
                 min_decrease: float = 0.0) -> None:
        super().__init__(None, min_epochs, min_decrease)
        self.embed, self.every, self.tol = embed, int(every), float(tol)
        self.previous: Optional[Tensor] = None
        self.drifts: List[Tuple[int, float]] = []

    def stops(self, epochs_run: int) -> bool:
        return (bool(self.drifts) and self.drifts[-1][0] == epochs_run and self.drifts[-1][1] < self.tol
                and epochs_run >= self.min_epochs and self.armed)

    def update(self, loss: float, epochs_run: int) -> bool:
        super().update(loss, epochs_run)
        if epochs_run % self.every:
            return False
        z = self.embed().detach()
        if self.previous is not None:
            cos = torch.nn.functional.cosine_similarity(z, self.previous.to(z.device), dim=1)
            self.drifts.append((epochs_run, float(1.0 - cos.mean())))
        self.previous = z.cpu()
        return self.stops(epochs_run)

    def state_dict(self) -> Dict[str, Any]:
        return {**super().state_dict(), "previous": self.previous, "drifts": list(self.drifts)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.previous = state.get("previous")
        self.drifts = [tuple(d) for d in state.get("drifts", [])]


class TrainingRun:
    """What a training checkpoint of one run holds, and how to write and restore it.

    Args:
        modules: Name -> module (``None`` entries skipped).
        optimizer: The optimizer.
        graph: Facts about the training graph a resume must match (sizes, fingerprint).
        extra: Name -> object with ``state_dict()``/``load_state_dict()`` (a mini-batch
            sampler, the patience counter).
    """

    def __init__(self, modules: Dict[str, Optional[torch.nn.Module]], optimizer: torch.optim.Optimizer,
                 graph: Dict[str, Any], extra: Optional[Dict[str, Any]] = None) -> None:
        self.modules, self.optimizer, self.graph, self.extra = modules, optimizer, graph, dict(extra or {})

    def save(self, est: "GraphclEstimator", epoch: int, history: List[Terms]) -> None:
        extra = {k: v.state_dict() for k, v in self.extra.items()}
        write_training_state(est, epoch, history, self.modules, self.optimizer, self.graph, extra)

    def restore(self, state: Dict[str, Any]) -> Tuple[int, List[Terms]]:
        """Load ``state`` (already checked by :func:`graphcl.checkpoint.read_training_state`);
        returns ``(first epoch to run, loss history so far)``."""
        restore_training_state(state, self.modules, self.optimizer)
        for key, obj in self.extra.items():
            if key in state["extra"]:
                obj.load_state_dict(state["extra"][key])
        return state["epoch"] + 1, list(state["history"])


class GraphclEstimator(ClusterMixin, BaseEstimator):
    """Base class of the graphcl estimators (see the module docstring).

    Subclasses set the parameters in ``__init__`` (scikit-learn style: one attribute per
    argument) and accept ``**deprecated`` keyword arguments, passed to :meth:`_take_deprecated`.
    A subclass that only changes some defaults names those and forwards the rest as ``**kwargs``
    to its parent: its parameters are its own and its parents' (:meth:`_get_param_names`).
    Every estimator has ``n_clusters``, ``epochs``, ``random_state``, ``device``, ``progress``,
    ``epoch_log``, ``checkpoint`` and ``checkpoint_every``.
    """

    #: Registry name and graph family (set by :func:`graphcl.models.register`).
    method_name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    #: Old argument name -> current name, accepted with a DeprecationWarning.
    deprecated_names: ClassVar[Dict[str, str]] = {}
    #: Fitted attributes written by :meth:`save` (those the estimator has).
    saved_attributes: ClassVar[Tuple[str, ...]] = ("labels_", "embeddings_", "loss_history_", "timings_")

    # -- parameters ---------------------------------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> List[str]:
        """scikit-learn's parameter names (``get_params``, ``clone``): the named arguments of
        ``__init__``, and, where ``__init__`` forwards ``**kwargs`` to its parent, the parent's."""
        names = set()
        for klass in cls.__mro__:
            if klass is GraphclEstimator or not issubclass(klass, GraphclEstimator):
                break
            if "__init__" not in klass.__dict__:
                continue
            params = list(inspect.signature(klass.__init__).parameters.values())[1:]
            names.update(p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            if not any(p.kind == p.VAR_KEYWORD and p.name == "kwargs" for p in params):
                break
        return sorted(names)

    def _take_deprecated(self, deprecated: Dict[str, Any]) -> None:
        """Apply old argument names (with a DeprecationWarning); refuse unknown ones."""
        for old, value in deprecated.items():
            new = self.deprecated_names.get(old)
            if new is None:
                raise GraphclInputError(f"{type(self).__name__} got an unexpected argument {old!r} "
                                        f"(arguments: {', '.join(self._get_param_names())})")
            warnings.warn(f"{type(self).__name__}: the argument {old!r} is deprecated and will be removed in the next "
                          f"release: use {new!r}", DeprecationWarning, stacklevel=3)
            setattr(self, new, value)

    def _check_common_params(self) -> None:
        """Checks of the arguments every estimator has (before any work starts)."""
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.checkpoint_every, "checkpoint_every")
        check_bool(self.progress, "progress")
        if self.epoch_log is not None:
            check_writable_file(self.epoch_log, "epoch_log")
        if self.checkpoint is not None:
            check_writable_file(self.checkpoint, "checkpoint")
        resolve_device(self.device)
        if not isinstance(self.random_state, (type(None), np.random.Generator, np.random.RandomState)):
            seed_from(self.random_state)  # an integer: checked without drawing from a generator

    # -- seeding --------------------------------------------------------------------------------
    def _seeded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` with torch's global RNG seeded from ``random_state`` (the seed is kept in
        ``random_state_``) and restored to the caller's state afterwards."""
        self.random_state_ = seed_from(self.random_state)
        saved = torch.random.get_rng_state()
        torch.manual_seed(self.random_state_)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.random.set_rng_state(saved)

    # -- training ---------------------------------------------------------------------------------
    def read_checkpoint(self, path: PathLike, graph: Dict[str, Any]) -> Dict[str, Any]:
        """A training checkpoint of this estimator's settings on ``graph``, to resume from."""
        return read_training_state(self, path, graph, self.epochs)

    def run_epochs(self, step: Callable[[], Terms], device: torch.device, *, run: Optional[TrainingRun] = None,
                   start: int = 0, history: Optional[List[Terms]] = None, patience: Optional[Patience] = None,
                   main: bool = True) -> Tuple[List[Terms], List[float]]:
        """Run epochs ``start..epochs-1`` of ``step() -> loss terms`` (floats).

        Each epoch is reported to the progress bar and the epoch log (on the ``main`` process),
        checkpointed through ``run`` every ``checkpoint_every`` epochs and after the last one;
        a non-finite term stops training with an error naming the epoch and the last good
        checkpoint (which stays in place); ``patience`` (on ``terms["loss"]``) may end training
        early.

        Returns:
            ``(history, epoch_seconds)``: every epoch's terms (those of a resumed run first) and
            the seconds of the epochs run now.
        """
        history = list(history or [])
        epoch_seconds: List[float] = []
        last_saved: Optional[int] = None
        checkpointing = run is not None and main
        with EpochMonitor(self.epochs, type(self).__name__, self.progress and main, self.epoch_log if main else None,
                          start) as monitor:
            for epoch in range(start, self.epochs):
                if patience is not None and patience.stops(epoch):
                    break  # a resumed run that had already stopped
                te = time.perf_counter()
                terms = step()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                epoch_seconds.append(time.perf_counter() - te)
                if not all(np.isfinite(v) for v in terms.values()):
                    raise non_finite_error(epoch, terms, self.checkpoint, last_saved)
                history.append(terms)
                monitor.update(epoch, terms, epoch_seconds[-1])
                stop = patience is not None and patience.update(terms["loss"], epoch + 1)
                last = epoch if stop else self.epochs - 1
                if checkpointing and due(self, epoch, last):
                    run.save(self, epoch, history)
                    last_saved = epoch
                if stop:
                    break
        return history, epoch_seconds

    # -- fitted state -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_") and not hasattr(self, "embeddings_"):
            raise GraphclInputError(f"this {type(self).__name__} is not fitted yet: call fit() first")

    def _warn_cluster_count(self, labels: np.ndarray) -> None:
        used = len(np.unique(labels))
        if self.n_clusters is not None and used < self.n_clusters:
            warnings.warn(f"{type(self).__name__}: only {used} of n_clusters={self.n_clusters} clusters received nodes",
                          RuntimeWarning, stacklevel=6)  # the caller of fit()

    def _fitted_modules(self) -> Dict[str, Optional[torch.nn.Module]]:
        """Name -> fitted module whose weights :meth:`save` stores."""
        raise NotImplementedError

    def _checkpoint_extra(self) -> Dict[str, Any]:
        """Further entries of the saved file (what :meth:`_from_checkpoint` needs to rebuild)."""
        return {}

    @classmethod
    def _from_checkpoint(cls, payload: Dict[str, Any], device: torch.device) -> "GraphclEstimator":
        """Rebuild a fitted estimator from a file written by :meth:`save`."""
        raise NotImplementedError

    def save(self, path: PathLike) -> None:
        """Save the fitted estimator to ``path``: weights, settings, fitted attributes, the
        optimizer state of the last epoch, the epoch, the RNG state and the package version.
        :meth:`load` (or :func:`load_estimator`) reads it back on any device (the optimizer
        state as ``optimizer_state_``). Loading unpickles: load only files you trust."""
        self._check_fitted()
        save_checkpoint({
            "kind": "fitted", "class": type(self).__name__, "params": self.get_params(),
            "state": {k: m.state_dict() for k, m in self._fitted_modules().items() if m is not None},
            "attributes": {k: getattr(self, k) for k in self.saved_attributes if hasattr(self, k)},
            "training": final_training_state(self), **self._checkpoint_extra(),
        }, path)

    @classmethod
    def load(cls, path: PathLike, device: Union[str, torch.device] = "cpu") -> "GraphclEstimator":
        """A fitted estimator saved by :meth:`save`, on ``device``; it must be a ``cls``."""
        return load_estimator(path, device, expected=cls)

    def _restore_attributes(self, payload: Dict[str, Any]) -> None:
        for key, value in payload["attributes"].items():
            setattr(self, key, value)
        self.optimizer_state_ = payload["training"]["optimizer"]


def load_estimator(path: PathLike, device: Union[str, torch.device] = "cpu", expected: Optional[type] = None):
    """A fitted estimator saved with its ``save(path)`` method, on ``device`` (its class is
    looked up in the registry). ``expected``: a class it must be an instance of.

    Raises:
        GraphclInputError: A missing or unreadable file, a training checkpoint, an unknown
            class, or not an ``expected``.
    """
    payload = load_checkpoint(path, "fitted")
    cls = by_class_name(payload["class"])
    if expected is not None and not issubclass(cls, expected):
        raise GraphclInputError(f"{path} holds a {payload['class']}, not a {expected.__name__}")
    return cls._from_checkpoint(payload, resolve_device(device))
