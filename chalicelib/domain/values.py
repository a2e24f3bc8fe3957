"""`@immutable`: a frozen dataclass whose methods are shared by every value class, not written for each one.

`@dataclass(frozen=True)` writes six methods for each class (`__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__`, `__delattr__`) as source text and compiles them when the class is defined: about 0.6 ms a
class. The API defines some 150 value classes (commands, results, guards, records), and compiling their
methods was about half of what a container spent importing our code (docs/performance.md, issue 18's
cold start). `@immutable` keeps dataclasses' processing of the fields, so `fields()`, `replace()`, `asdict()`
and pattern matching work as before and editors and type checkers read the class as a frozen dataclass
(`dataclass_transform`); the methods are the few functions below, which read each class's fields from a
table made once when the class is defined.

Behaviour is a frozen dataclass's (tests/unit/test_values.py holds the two side by side): the same
constructor (positional or by name, defaults, `default_factory`, the same TypeErrors), equality of the same
class over the fields that compare, the hash of those fields, the same repr, and FrozenInstanceError on
any assignment. A class that defines one of these methods itself keeps its own.
"""
from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import dataclass_transform

_SHARED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")


class _Plan:
    """What the shared methods need of one class's fields, in their order."""

    __slots__ = ("names", "known", "defaults", "factories", "compared", "shown", "takes")

    def __init__(self, cls: type) -> None:
        own = fields(cls)
        self.names = tuple(f.name for f in own)
        self.known = frozenset(self.names)
        self.defaults = {f.name: f.default for f in own if f.default is not MISSING}
        self.factories = {f.name: f.default_factory for f in own if f.default_factory is not MISSING}
        self.compared = tuple(f.name for f in own if f.compare)
        self.shown = tuple(f.name for f in own if f.repr)
        least, most = 1 + len(self.names) - len(self.defaults) - len(self.factories), 1 + len(self.names)
        self.takes = (f"from {least} to {most} positional arguments" if least < most else
                      f"{most} positional argument{'s' if most > 1 else ''}")  # as Python words it


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def immutable(cls: type) -> type:
    """The class as a frozen dataclass with the shared methods (see the module's docstring)."""
    own = {name for name in _SHARED if name in cls.__dict__}
    cls = dataclass(init=False, repr=False, eq=False)(cls)
    cls.__value_plan__ = _Plan(cls)
    for name, method in zip(_SHARED, (_init, _repr, _eq, _hash, _setattr, _delattr), strict=True):
        if name not in own:
            type.__setattr__(cls, name, method)
    return cls


def _init(self, *args, **kwargs) -> None:
    plan: _Plan = self.__value_plan__
    names = plan.names
    if len(args) > len(names):
        raise TypeError(f"{type(self).__qualname__}.__init__() takes {plan.takes} but {len(args) + 1} were given")
    for name in kwargs:
        if name not in plan.known:
            raise TypeError(f"{type(self).__qualname__}.__init__() got an unexpected keyword argument '{name}'")
    state, missing = self.__dict__, []
    for index, name in enumerate(names):
        if index < len(args):
            if name in kwargs:
                raise TypeError(f"{type(self).__qualname__}.__init__() got multiple values for argument '{name}'")
            state[name] = args[index]
        elif name in kwargs:
            state[name] = kwargs[name]
        elif name in plan.defaults:
            state[name] = plan.defaults[name]
        elif name in plan.factories:
            state[name] = plan.factories[name]()
        else:
            missing.append(f"'{name}'")
    if missing:
        listed = missing[0] if len(missing) == 1 else (
            " and ".join(missing) if len(missing) == 2 else ", ".join(missing[:-1]) + ", and " + missing[-1])
        raise TypeError(f"{type(self).__qualname__}.__init__() missing {len(missing)} required positional "
                        f"argument{'s' if len(missing) > 1 else ''}: {listed}")  # as Python words it


def _key(self) -> tuple:
    state = self.__dict__
    return tuple([state[name] for name in self.__value_plan__.compared])


def _eq(self, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self) -> int:
    return hash(_key(self))


def _repr(self) -> str:
    state = self.__dict__
    shown = ", ".join(f"{name}={state[name]!r}" for name in self.__value_plan__.shown)
    return f"{type(self).__qualname__}({shown})"


def _setattr(self, name: str, _value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
