"""`@immutable` behaves as `@dataclass(frozen=True)`: the same classes, declared both ways, side by side."""
from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, replace
from typing import ClassVar

import pytest

from chalicelib.domain.values import immutable


class Base:
    refuses: ClassVar[bool] = True


def _declare(decorate):
    @decorate
    class Point(Base):
        x: int
        y: int = 0
        tags: tuple = field(default_factory=tuple)
        secret: dict | None = field(default=None, compare=False, repr=False)

    @decorate
    class Labelled(Point):
        label: str = "a"

    @decorate
    class Empty:
        pass

    return Point, Labelled, Empty


MINE, STDLIB = _declare(immutable), _declare(dataclass(frozen=True))
for _cls in (*MINE, *STDLIB):
    _cls.__qualname__ = _cls.__name__  # the same repr for both sides

CALLS = [((1,), {}), ((1, 2), {}), ((), {"x": 1}), ((1,), {"y": 2}), ((1, 2, ("t",)), {}), ((1,), {"secret": {}}),
         ((), {"y": 2, "x": 1})]
BAD_CALLS = [((), {}), ((1, 2, 3, 4, 5, 6, 7), {}), ((1, 2, [], None, 5), {}), ((1,), {"x": 2}), ((1,), {"z": 3}),
             ((), {"y": 2})]


def _outcome(make):
    try:
        made = make()
    except TypeError as error:
        return "TypeError", str(error).split("() ", 1)[1]  # dataclass names "__init__()", as we do
    return "made", made


@pytest.mark.parametrize(("args", "kwargs"), CALLS + BAD_CALLS)
def test_constructor_takes_and_refuses_the_same_arguments(args, kwargs):
    (mine, *_), (stdlib, *_) = MINE, STDLIB
    got, want = _outcome(lambda: mine(*args, **kwargs)), _outcome(lambda: stdlib(*args, **kwargs))
    assert got[0] == want[0]
    if got[0] == "made":
        assert repr(got[1]) == repr(want[1]) and asdict(got[1]) == asdict(want[1])
    else:
        assert got[1] == want[1]


def test_every_missing_argument_is_named_as_python_names_them():
    def declare(decorate):
        @decorate
        class Three:
            a: int
            b: int
            c: int
            d: int = 0

        return Three

    mine, stdlib = declare(immutable), declare(dataclass(frozen=True))
    for args, kwargs in (((), {}), ((1,), {}), ((1, 2), {}), ((), {"b": 2})):
        got, want = (_outcome(lambda cls=cls, a=args, k=kwargs: cls(*a, **k)) for cls in (mine, stdlib))
        assert got[0] == want[0] == "TypeError" and got[1] == want[1]


def test_equality_hash_and_repr_match_a_frozen_dataclass():
    for (point, labelled, empty), name in ((MINE, "mine"), (STDLIB, "stdlib")):
        a, b = point(1, 2, secret={"k": 1}), point(1, 2, secret={"other": 2})
        assert a == b and hash(a) == hash(point(1, 2)), name  # `secret` does not compare
        assert a != point(1, 3) and a != labelled(1, 2) and a != (1, 2), name
        assert repr(a) == "Point(x=1, y=2, tags=())", name  # `secret` is not shown
        assert repr(labelled(1)) == "Labelled(x=1, y=0, tags=(), label='a')", name
        assert empty() == empty() and repr(empty()) == "Empty()" and hash(empty()) == hash(()), name
        assert {point(1): "one"}[point(1)] == "one"
        with pytest.raises(TypeError, match=r"Empty.__init__\(\) takes 1 positional argument but 2 were given"):
            empty(1)


def test_every_assignment_is_refused():
    for point, *_ in (MINE, STDLIB):
        made = point(1)
        for name in ("x", "new"):
            with pytest.raises(FrozenInstanceError):
                setattr(made, name, 2)
        with pytest.raises(FrozenInstanceError):
            del made.x
        assert made.x == 1 and not hasattr(made, "new")


def test_dataclass_functions_and_matching_work():
    point, labelled, _ = MINE
    made = labelled(1, tags=("t",))
    assert [f.name for f in fields(made)] == ["x", "y", "tags", "secret", "label"]
    assert replace(made, y=5) == labelled(1, 5, ("t",)) and made.y == 0
    assert asdict(made) == {"x": 1, "y": 0, "tags": ("t",), "secret": None, "label": "a"}
    assert point(1).secret is None and point(1, tags=[]).tags is not point(1, tags=[]).tags
    match point(3, 4):
        case point(x, y):
            assert (x, y) == (3, 4)
    assert point.refuses is True and isinstance(made, Base)


@immutable
class Pickled:
    name: str
    items: list = field(default_factory=list)


def test_copies_and_pickles_are_equal_and_still_frozen():
    made = Pickled("a", ["t"])
    assert Pickled("b").items is not Pickled("b").items  # a fresh list each time, as default_factory gives
    for twin in (copy.copy(made), copy.deepcopy(made), pickle.loads(pickle.dumps(made))):
        assert twin == made and twin is not made
        with pytest.raises(FrozenInstanceError):
            twin.x = 5


def test_a_method_the_class_defines_is_kept():
    @immutable
    class Shown:
        name: str

        def __repr__(self) -> str:
            return "<shown>"

    assert repr(Shown("a")) == "<shown>" and Shown("a") == Shown("a")
