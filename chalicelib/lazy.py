"""Modules imported on first use, so a cold start loads only what the invoked route needs (STYLE.md 9).

`app.py` registers every route. When each route module imported its services up front, every cold start
paid for every feature's services, models and partner clients, though one invocation serves one route
(docs/performance.md). A route module names its services with `lazy`; the first attribute read imports
the module (importlib's per-module import locks make that safe across threads), and every read answers
from the module itself, so nothing is copied and a test that patches the module sees its patch.
"""
from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"set {attr} on the module {self._name} itself, not on its lazy name")

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"


def lazy(name: str) -> Any:
    """`lazy("chalicelib.services.checkins")`: stands for that module, imported when first used."""
    return LazyModule(name)
