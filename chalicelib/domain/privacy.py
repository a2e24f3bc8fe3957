"""What others may see of a person: the rules of public names. Pure.

A nickname is shown to other people (leaderboards) only when it passed WeChat's content check (a nickname
waiting for the check is kept apart, `nickname_pending`, and never shown), the person is not a minor, and
the account is not deleted. Otherwise boards show a neutral name.
"""
from __future__ import annotations

DELETED_NAME = "已注销用户"
NEUTRAL_PREFIX = "绿芽用户"


def neutral_name(user_id: str) -> str:
    """"绿芽用户" and the last 4 characters of the (random, opaque) user id."""
    return NEUTRAL_PREFIX + user_id[-4:]


def public_name(user_id: str, nickname: str | None, minor: bool = False, deleted: bool = False) -> str:
    """The name other people see. `nickname` is the checked one (a pending one never reaches here)."""
    if deleted:
        return DELETED_NAME
    if minor or not nickname:
        return neutral_name(user_id)
    return nickname


def nickname_status(pending: str | None, check: str | None) -> str:
    """What the owner sees of their nickname: "pending" (waiting for the content check or a moderator),
    "rejected" (a pending nickname was refused after the fact: the previous one stays), or "ok"."""
    if pending:
        return "pending"
    return "rejected" if check == "rejected" else "ok"
