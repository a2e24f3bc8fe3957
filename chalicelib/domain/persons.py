"""Persons (shared/contract/platforms.md): a human being, joined across platforms by WeChat's unionid.

Pure rules, no I/O. A person's id is `p_` + 20 random characters when a unionid can join them (the union item
names it, store/persons.py); a person WeChat gave no unionid is a person of one platform alone, whose id is
derived from its only user's: `p_` + the user id without `u_`. Only an account whose person a unionid can join
carries `person_id`; one without it (no unionid, or made before persons until `python -m admin backfill-persons`
writes it) reads as the derived one, and what is counted per person (claims of reductions, self-reported daily
limits) is then that account's own business: no other platform can bring the same person.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from . import ids

UNION_PREFIX = "un#"


def new_person_id() -> str:
    return "p_" + ids.random_code(20)


def derived_person_id(user_id: str) -> str:
    """The person of a user no unionid joins to another: named after the user (`u_X` -> `p_X`)."""
    return "p_" + user_id.removeprefix("u_")


def person_of(account: Any) -> str:
    """The account's person id: its `person_id`, else the derived one."""
    return getattr(account, "person_id", None) or derived_person_id(account.user_id)


def shared(account: Any) -> bool:
    """Whether the account's person has users on other platforms too (store/persons.stage_join gave it its
    `peers`): what is counted per person across platforms is then counted for it."""
    return bool(peers_of(account))


def peers_of(account: Any) -> dict[str, str]:
    """The person's users on the other platforms, {platform: user id}; {} for a person of one platform."""
    return dict(getattr(account, "peers", None) or {})


def person_carbon_mg(account: Any) -> int:
    """The person's carbon across every platform, as the account knows it."""
    if not shared(account):
        return int(account.carbon_mg)
    return int(getattr(account, "person_carbon_mg", None) or 0)


def union_key(unionid: str, key: bytes) -> str:
    """The union item's key, `un#{digest}`: an HMAC of the unionid under `key`, so the key names no unionid."""
    digest = hmac.new(key, b"unionid|" + unionid.encode(), hashlib.sha256).digest()
    return UNION_PREFIX + base64.urlsafe_b64encode(digest).decode()[:27]


def union_hmac_key(data_key: bytes) -> bytes:
    """The key union digests are made with, derived from a data key (never the data key itself)."""
    return hmac.new(data_key, b"greensprout union key v1", hashlib.sha256).digest()
