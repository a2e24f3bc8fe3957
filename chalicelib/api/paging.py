"""A list route's query string: the page size and a filter's allowed values. The cursor stays the opaque
string the client got: the store signs and reads it (store/cursor.py)."""
from __future__ import annotations

from collections.abc import Iterable

from ..domain import numbers
from ..errors import ValidationError


def parse_limit(raw: str | None) -> int:
    """`?limit=`: 1..100 in ASCII digits (domain/numbers.py: no '²', '３', sign, space or 5,000 nines)."""
    if raw is None:
        return 20
    limit = numbers.ascii_int(raw, 3)
    if limit is None or not 1 <= limit <= 100:
        raise ValidationError("limit 须为 1 到 100 的整数", field="limit", reason="range", minimum=1, maximum=100,
                              rule="limit: a whole number from 1 to 100 in ASCII digits (default 20)")
    return limit


def one_of(raw: str | None, choices: Iterable[str], field: str, message: str, **details) -> str | None:
    """A filter's value, None when absent; 400 VALIDATION_ERROR naming `field` when not one of `choices`."""
    if raw is not None and raw not in choices:
        raise ValidationError(message, field=field, **details)
    return raw
