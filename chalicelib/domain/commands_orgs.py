"""Organizations' inputs, as the routes parse them (domain/commands.py: the others)."""
from __future__ import annotations

from .values import immutable


@immutable
class JoinOrg:
    """POST /v1/orgs/{id}/join with the org's invite code as typed."""

    user_id: str
    org_id: str
    invite_code: str
