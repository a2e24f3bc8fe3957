"""Typed request bodies: each write route declares its fields once, and `parse` checks them before any service
or DynamoDB sees the body.

api.md: a missing required field or a wrong JSON type is 400 VALIDATION_ERROR with `details.field`, never a
later code (a mistyped `behavior` must not read as an unknown behaviour). Only the shape is checked here:
presence, JSON type, and a string's pattern and lengths; what a value means (a known behaviour, a right
invite code) stays the service's. Every refusal keeps the field's Chinese message and says the rule in
`details` for a developer reading the JSON: `reason` (missing, type, pattern, length), `expected` (the JSON
types allowed), `pattern`, `min_length`, `max_length` when set, and `rule`, an English sentence.
Optional fields that are absent are absent; an explicit `null` is a value, allowed only where `null` is listed.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..domain.values import immutable
from ..errors import ValidationError

STRING, NUMBER, BOOLEAN, OBJECT, ARRAY, NULL = "string", "number", "boolean", "object", "array", "null"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def query_day(raw: str, field: str, rule: str) -> date:
    """A query parameter's day, YYYY-MM-DD in ASCII digits (`date.fromisoformat` alone also takes 20261123 and
    2026-W48-1); else 400 VALIDATION_ERROR naming `field`, with `rule` for the developer."""
    try:
        if not ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{field} 须为 YYYY-MM-DD", field=field, reason="pattern", pattern=ISO_DAY.pattern,
                              rule=rule) from None


def json_type(value: object) -> str:
    """The JSON type of a value `json.loads` made (a bool is not a number)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    return OBJECT if isinstance(value, dict) else ARRAY


@immutable
class Field:
    """One body field: its JSON types, whether it is required, a string's pattern and lengths, and the Chinese
    message a person reads when it is wrong (the English `rule` is built from the rest unless given)."""

    name: str
    message: str
    types: tuple[str, ...] = (STRING,)
    required: bool = True
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    rule: str | None = None

    def refuse(self, reason: str) -> ValidationError:
        details: dict[str, Any] = {"field": self.name, "reason": reason, "expected": list(self.types)}
        if self.pattern is not None:
            details["pattern"] = self.pattern
        if self.min_length is not None:
            details["min_length"] = self.min_length
        if self.max_length is not None:
            details["max_length"] = self.max_length
        details["rule"] = self.rule or self._rule()
        return ValidationError(self.message, **details)

    def _rule(self) -> str:
        kinds = " or ".join(self.types)
        text = f"{self.name} is {'required' if self.required else 'optional'}: {kinds}"
        if self.min_length is not None or self.max_length is not None:
            text += f" of {self.min_length or 0} to {self.max_length if self.max_length is not None else 'any'}" \
                    " characters"
        if self.pattern is not None:
            text += f" matching {self.pattern}"
        return text

    def check(self, body: dict) -> None:
        if self.name not in body:
            if self.required:
                raise self.refuse("missing")
            return
        value = body[self.name]
        if json_type(value) not in self.types:
            raise self.refuse("missing" if value is None and self.required else "type")
        if isinstance(value, str):
            if (self.min_length is not None and len(value) < self.min_length) or (
                    self.max_length is not None and len(value) > self.max_length):
                raise self.refuse("pattern" if self.pattern else "length")
            if self.pattern is not None and not re.fullmatch(self.pattern, value):
                raise self.refuse("pattern")


def parse(body: dict, *fields: Field) -> dict:
    """`body` when every field has the declared shape (checked in the order given); VALIDATION_ERROR otherwise."""
    for spec in fields:
        spec.check(body)
    return body


# Fields several routes share.
REQUEST_ID = Field("request_id", "request_id 须为 8 到 64 位字母、数字、下划线或连字符",
                   pattern="^[A-Za-z0-9_-]{8,64}$", min_length=8, max_length=64,
                   rule="request_id is required: 8 to 64 characters of A-Z, a-z, 0-9, '_' or '-', "
                        "made by the client and unique per write (send it again to retry that write)")
# A positive decimal with at most 3 decimals, or its string; null (or leaving it out) for a behaviour counted in
# events. Whether the behaviour needs one is the service's to say (services/checkins.py: quantity_of).
QUANTITY = Field("quantity", "数量须为正数，最多 3 位小数", types=(NUMBER, STRING, NULL), required=False,
                 rule="quantity: a positive number with at most 3 decimals (or its string) in the behaviour's unit; "
                      "leave it out (or null) for a behaviour counted in events")
