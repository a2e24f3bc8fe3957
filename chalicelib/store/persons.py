"""The union item joining a person's users across platforms (docs/platforms.md "Persons").

identities — pk `key` = "un#{digest}" (domain/persons.union_key: an HMAC of the unionid, so the key names no
unionid): `person_id`, `created_at`, and no `user_id` (an `Identity` item of its own kind, store/models.py).
Written once, by the first login that brings its unionid (or by `python -m admin backfill-persons`), with
`attribute_not_exists(key)` returning the item already there, so a login learns the person it joins without
reading first (store/logins.py). Its stream records are skipped by services/aggregate.accept_identities.
"""
from __future__ import annotations

from ..domain import persons
from ..settings import get_settings


def union_key(unionid: str) -> str:
    """The union item's key for a unionid. Made with a key derived from the oldest data key still listed
    (DATA_KEYS' last, or DATA_KEY), which a rotation that adds a new current key leaves in place."""
    return persons.union_key(unionid, persons.union_hmac_key(get_settings().data_keys[-1][1]))


def person_in(raw_item: dict | None) -> str | None:
    """The person id of a union item as a cancellation reason returned it (DynamoDB JSON)."""
    return ((raw_item or {}).get("person_id") or {}).get("S")
