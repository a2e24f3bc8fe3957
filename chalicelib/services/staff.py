"""Who is merchant staff right now: the token's claim, confirmed by the catalog on every staff request.

A token says "staff of merchant M" for its two hours; the catalog (cached a minute per container) says whether
M's `staff_openids` still lists the caller. M is a merchant of the token's platform (`plt`), whose staff
partition is the one looked in: a staff token of one platform is no staff of another platform's merchant. Staff
routes (scanning codes, the merchant's day, collection-point credits) require both, so removing someone from
`staff_openids` takes effect within about a minute, at no DynamoDB call beyond the catalog's cached partition
read.
"""
from __future__ import annotations

from ..errors import ForbiddenError
from . import catalog, revocations
from .tokens import Caller

_NO_LONGER_STAFF = "你已不是该商户的工作人员；如已调往其他商户，请重新登录"


def is_current_staff(caller: Caller) -> bool:
    return caller.is_staff and catalog.merchant_of_staff_id(caller.staff_id, caller.platform) == caller.merchant_id


def require_staff(caller: Caller) -> str:
    """The caller's merchant; 403 FORBIDDEN for a plain user and for staff the merchant no longer lists
    (removed, or moved to another merchant: their new role comes with their next login); 403 ACCOUNT_FROZEN
    for staff whose own account is frozen (services/revocations.py, known to every container within a minute)."""
    if not caller.is_staff:
        raise ForbiddenError()
    if not is_current_staff(caller):
        raise ForbiddenError(_NO_LONGER_STAFF)
    revocations.refuse_frozen_staff(caller.user_id)  # 403 ACCOUNT_FROZEN: the staff member's own account
    return caller.merchant_id  # type: ignore[return-value]


def current_roles(caller: Caller) -> tuple[str, ...]:
    """The roles to show the caller (GET /v1/me): the token's, less a staff role the catalog has withdrawn.
    Plain users never touch the catalog."""
    if "merchant_staff" in caller.roles and not is_current_staff(caller):
        return tuple(role for role in caller.roles if role != "merchant_staff")
    return caller.roles
