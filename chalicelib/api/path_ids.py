"""Ids taken from a request's path, checked before any service or DynamoDB sees them.

Every id a path can name is 1..64 characters of `[A-Za-z0-9_-]`: redemption ids (26, domain/ids.py's
Crockford base32), partner ids (`transit`, `bank`), and the catalog's ids, which the admin loaders hold to
that set or less (goods and trees: lower case, digits, `-`, `_` for goods; orgs: `[A-Za-z0-9_-]{1,64}`).
Anything else cannot name an object, so it is answered as an unknown one (404, the route's own code),
never passed on: DynamoDB refuses keys over 2048 bytes (1024 for a sort key) with a ValidationException.
"""
from __future__ import annotations

import re

from ..errors import AppError, NotFoundError

PATH_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def path_id(value: object, unknown: AppError | None = None) -> str:
    """`value` when it could name something we store; else `unknown` (NOT_FOUND by default) is raised."""
    if not isinstance(value, str) or not PATH_ID.fullmatch(value):
        raise unknown or NotFoundError()
    return value
