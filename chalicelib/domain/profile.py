"""The caller's own account as they see it (GET/PATCH /v1/me), and what a profile change writes. Pure.

A nickname change is decided by WeChat's content check (services/nicknames.py): `SAME` (unchanged: any
pending one is dropped), `SET` (checked: it is the nickname now) or `HOLD` (kept apart as `nickname_pending`
in the queue `UNCHECKED` or `REVIEW` until it is settled). store/repositories_profile.py writes each one.
"""
from __future__ import annotations

from datetime import date

from .values import immutable

UNCHECKED, REVIEW, REJECTED = "unchecked", "review", "rejected"
QUEUES = (UNCHECKED, REVIEW)
SAME, SET, HOLD = "same", "set", "hold"
APPROVE, REJECT = "approve", "reject"  # a verdict on a pending nickname; REVIEW moves it to the review queue


@immutable
class NicknameChange:
    kind: str  # SAME | SET | HOLD
    name: str
    queue: str | None = None  # HOLD: the moderation queue it waits in


@immutable
class UpdateProfile:
    """PATCH /v1/me as the route parsed it: `nickname` and `avatar_url` as sent (checked by the use case);
    `avatar_given` tells an avatar_url of null (remove it) from none sent."""

    nickname: object = None
    nickname_given: bool = False
    avatar_url: object = None
    avatar_given: bool = False


@immutable
class ProfileChange:
    """What one account update writes (conditioned on the account existing and not deleted)."""

    nickname: NicknameChange | None = None
    avatar_given: bool = False
    avatar_url: str | None = None


@immutable
class Org:
    id: str
    name: str


@immutable
class TodayUse:
    """What today's events of one capped behaviour used of its daily caps (domain/caps.py): events, points and
    quantity (thousandths), each kept only when a cap of the behaviour reads it (0 otherwise)."""

    behavior: str
    events: int
    points: int
    quantity_milli: int


@immutable
class Profile:
    user_id: str
    nickname: str  # the owner sees their pending nickname; others see the checked one only
    nickname_status: str  # domain/privacy.nickname_status
    avatar_url: str | None
    points: int
    carbon_mg: int
    points_earned: int
    points_spent: int
    joined_at: str
    roles: tuple[str, ...]
    frozen: bool
    orgs: tuple[Org, ...]
    expiring_points: int  # what expires at the end of `expiring_on` (domain/lots.next_expiry)
    expiring_on: date | None
    person_carbon_mg: int  # the person's carbon across every platform (domain/persons.person_carbon_mg)
    review: Review | None = None  # domain/review.py
    today: tuple[TodayUse, ...] = ()  # the account's day counters of today's business day


@immutable
class Review:
    """The account's review as its owner sees it: since when and the rules (under review), what is held (also on
    a clear account: credits of a staff member under review)."""

    since: str | None
    rules: tuple[str, ...]
    points_held: int
    carbon_held_mg: int


@immutable
class PendingNickname:
    """A nickname waiting in a moderation queue, as a moderator lists it."""

    user_id: str
    nickname: str
    current: str | None
    queued_at: str | None


@immutable
class NicknameDecision:
    user_id: str
    nickname: str
    approved: bool
