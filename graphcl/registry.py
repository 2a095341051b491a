"""The estimator registry: one list of methods that the CLI, checkpoints, experiment scripts and
the distributed runner read instead of keeping their own maps.

A method is registered under a short name (``"scgc_star"``) with the family of graphs it
trains on (``"homogeneous"``: a PyG ``Data``; ``"heterogeneous"``: a ``HeteroData``) and the
name of its block in ``experiments/configs/<config_file>``::

    from graphcl.models import GraphclEstimator, register

    @register("my_method", family="homogeneous", config=("scgc.yaml", "scgc_star"))
    class MyMethod(GraphclEstimator):
        ...

This module imports nothing from the estimators, so any module may import it. The built-in
methods register when :mod:`graphcl.models` is imported; use the names re-exported there
(``graphcl.models.get``, ``graphcl.models.available``), which guarantee that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple, TypeVar

from graphcl.errors import GraphclInputError

__all__ = ["FAMILIES", "MethodInfo", "available", "by_class_name", "get", "info", "register", "unregister"]

FAMILIES = ("homogeneous", "heterogeneous")
T = TypeVar("T", bound=type)


@dataclass(frozen=True)
class MethodInfo:
    """A registered method.

    Attributes:
        name: Registry name (``--method`` on the command line).
        cls: The estimator class.
        family: ``"homogeneous"`` or ``"heterogeneous"``.
        config: ``(file name, YAML section)`` of its hyperparameters under
            ``experiments/configs``, or ``None``.
    """

    name: str
    cls: type
    family: str
    config: Optional[Tuple[str, str]] = None


_METHODS: Dict[str, MethodInfo] = {}


def register(name: str, *, family: str = "homogeneous", config: Optional[Tuple[str, str]] = None) -> Callable[[T], T]:
    """Class decorator: register an estimator under ``name`` (a lowercase identifier).

    Raises:
        GraphclInputError: A bad name or family, or ``name`` already taken by another class.
    """
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise GraphclInputError(f"a method name must be a lowercase identifier, got {name!r}")
    if family not in FAMILIES:
        raise GraphclInputError(f"family must be one of {FAMILIES}, got {family!r}")

    def decorate(cls: T) -> T:
        old = _METHODS.get(name)
        if old is not None and old.cls.__qualname__ != cls.__qualname__:
            raise GraphclInputError(f"method {name!r} is already registered to {old.cls.__name__}")
        _METHODS[name] = MethodInfo(name, cls, family, config)
        cls.method_name = name  # type: ignore[attr-defined]
        cls.family = family  # type: ignore[attr-defined]
        return cls

    return decorate


def unregister(name: str) -> None:
    """Remove a method (tests that register a throwaway estimator clean up with this)."""
    _METHODS.pop(name, None)


def available(family: Optional[str] = None) -> Tuple[str, ...]:
    """Registered method names (of one ``family``, or all), in registration order."""
    if family is not None and family not in FAMILIES:
        raise GraphclInputError(f"family must be one of {FAMILIES}, got {family!r}")
    return tuple(n for n, m in _METHODS.items() if family is None or m.family == family)


def info(name: str) -> MethodInfo:
    """The :class:`MethodInfo` of a registered method.

    Raises:
        GraphclInputError: ``name`` is not registered (the message lists the methods).
    """
    if name not in _METHODS:
        raise GraphclInputError(f"unknown method {name!r} (available: {', '.join(_METHODS)})")
    return _METHODS[name]


def get(name: str) -> type:
    """The estimator class registered as ``name``."""
    return info(name).cls


def by_class_name(class_name: str) -> type:
    """The registered estimator class called ``class_name`` (what a checkpoint file records)."""
    for m in _METHODS.values():
        if m.cls.__name__ == class_name:
            return m.cls
    known = sorted(m.cls.__name__ for m in _METHODS.values())
    raise GraphclInputError(f"unknown estimator class {class_name!r} (known: {known})")
