"""Feature groups of the Lab as namespaces over its core, registered the way polars registers frame namespaces
(``pl.api.register_dataframe_namespace``).

A namespace is a small class built on the Lab it serves (``LabNamespace``): it reads through the Lab's core
(``bars``, ``read``, ``reference``, calendar, clock, mode, engine) and reaches another group only by its name
(``self.lab.pit.securities()``), never through an inherited ``self`` shared by every group. Registering one::

    @register_lab_namespace("pit", flat=("securities", "universe"))
    class PointInTime(LabNamespace):
        def securities(self, as_of=None): ...

makes ``lab.pit`` an instance of it (built on access, as polars does: it holds nothing but the Lab) and, for
each name in ``flat``, ``lab.securities(...)`` the same bound method (the Lab's flat public API; a property of
the namespace, such as ``tracking``, reads as ``lab.tracking``). A name the Lab already has is refused, so a
namespace never shadows a method silently.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab.core import LabCore
from quantdb_lab.lab.engine import Engine

N = TypeVar("N", bound="LabNamespace")


class LabNamespace:
    """Base of a feature group: the Lab it serves, and nothing else."""

    def __init__(self, lab: LabCore) -> None:
        self.lab = lab

    @property
    def engine(self) -> Engine:
        """What every Lab made by ``using`` shares: store, provider, throttle, calendar, loaders, counters."""
        return self.lab._engine

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.lab!r}>"


class _Accessor:
    """``lab.<name>``: the namespace built on that Lab (the class itself when read on the class)."""

    def __init__(self, name: str, cls: type[LabNamespace]) -> None:
        self.name, self.cls = name, cls
        self.__doc__, self.__module__ = cls.__doc__, cls.__module__

    def __get__(self, lab: LabCore | None, owner: type | None = None) -> Any:
        return self.cls if lab is None else self.cls(lab)


class _Flat:
    """``lab.<method>``: the namespace's method, bound to a namespace built on that Lab (or, for a property of the
    namespace, its value)."""

    def __init__(self, namespace: str, attribute: str, cls: type[LabNamespace]) -> None:
        self.namespace, self.attribute = namespace, attribute
        self.member = inspect.getattr_static(cls, attribute)
        if not isinstance(self.member, property):
            functools.update_wrapper(self, self.member)
        self.__doc__, self.__module__ = self.member.__doc__, cls.__module__

    def __get__(self, lab: LabCore | None, owner: type | None = None) -> Any:
        if lab is None:
            return self.member
        return getattr(getattr(lab, self.namespace), self.attribute)


def _taken(attribute: str) -> Any:
    """What ``attribute`` already is on the Lab's core or on any class built on it (a mixin, ``Lab``), or None."""
    classes, seen = [LabCore], set()
    while classes:
        cls = classes.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if attribute in cls.__dict__:
            return cls.__dict__[attribute]
        classes.extend(cls.__subclasses__())
    return getattr(LabCore, attribute, None)


def register_lab_namespace(name: str, *, flat: Sequence[str] = ()) -> Callable[[type[N]], type[N]]:
    """Register a ``LabNamespace`` subclass as ``lab.<name>`` (and each of ``flat`` as ``lab.<method>``)."""

    def decorate(cls: type[N]) -> type[N]:
        if not (isinstance(cls, type) and issubclass(cls, LabNamespace)):
            raise InvalidRequestError(f"a Lab namespace subclasses LabNamespace, not {cls!r}")
        for attribute in (name, *flat):
            current = _taken(attribute)
            ours = isinstance(current, _Accessor | _Flat) and current.__module__ == cls.__module__
            if current is not None and not ours:  # a module imported twice re-registers its own names only
                raise InvalidRequestError(f"the Lab already has {attribute!r}: pick another namespace name")
        setattr(LabCore, name, _Accessor(name, cls))
        for method in flat:
            setattr(LabCore, method, _Flat(name, method, cls))
        return cls

    return decorate
