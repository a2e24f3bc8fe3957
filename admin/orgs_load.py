"""The catalog's "orgs" section (operations.md): enterprises, schools and groups people join with an invite code.

Each org goes to the catalog partition "org" (a platform P's: "P#org") as {id, name, type, invite_sha256}: the
invite code itself is never stored, so no route or export can ever serve it (services/orgs.py compares digests).
"""
from __future__ import annotations

import re

from chalicelib.domain.orgs import INVITE_MAX, INVITE_MIN, ORG_TYPES, invite_digest
from chalicelib.domain.platforms import DEFAULT, scoped

from .console import CommandError

ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ids appear in keys ("o#{id}#07") and paths (/v1/orgs/{id})


def org_from_catalog(entry: object) -> dict:
    """The stored form of one catalog org; CommandError naming what is wrong."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not ORG_ID.fullmatch(entry["id"]):
        raise CommandError(f"org needs an id of letters, digits, '-' or '_': {entry!r}")
    org_id = entry["id"]
    name, kind, code = entry.get("name"), entry.get("type"), entry.get("invite_code")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        raise CommandError(f"org {org_id}: name must be 1 to 64 characters")
    if kind not in ORG_TYPES:
        raise CommandError(f"org {org_id}: type must be one of {', '.join(ORG_TYPES)}")
    if not isinstance(code, str) or not INVITE_MIN <= len(code.strip()) <= INVITE_MAX:
        raise CommandError(f"org {org_id}: invite_code must be {INVITE_MIN} to {INVITE_MAX} characters")
    return {"id": org_id, "name": name.strip(), "type": kind, "invite_sha256": invite_digest(code)}


def plan_orgs(entries: list, platform: str = DEFAULT):
    """The `org` partition; a platform P's orgs (its entry's `orgs`, admin/platforms_load.py) go to `P#org`."""
    from .catalog_load import upserts  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("orgs must be a list")
    return upserts(scoped(platform, "org"), "org", (org_from_catalog(entry) for entry in entries))
