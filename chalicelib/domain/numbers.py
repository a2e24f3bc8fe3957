"""Numbers read from text a client or a partner sent: a query string, a header, a partner's field.

`str.isdigit()` is no guard: it accepts '²' (then `int()` raises, a 500), '٣' and '３' (which `int()` reads as
3), and `int()` refuses more than 4,300 digits. Text becomes a number here only when it is ASCII digits and
no longer than the caller's bound; a number a partner's JSON already holds is taken only when it is a real
integer (never a bool) inside the caller's range. Callers turn None into their own refusal: 400 for a
client's query, BAD_SIGNATURE for a partner's header, a skipped event for a partner's record.
"""
from __future__ import annotations

import re

ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_int(text: object, max_digits: int) -> int | None:
    """The integer `text` spells in 1..max_digits ASCII digits (leading zeros allowed), else None: no sign,
    no space, no newline, no other script's digits."""
    if not isinstance(text, str) or not 0 < len(text) <= max_digits or not ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)


def bounded_int(value: object, low: int, high: int) -> int | None:
    """`value` when it is an integer (a bool is not) with low <= value <= high, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value
