"""Helpers of the open-protocol tests: a user's link code, the fake partner's signed link and pushes
(infra/local/fake_open_partner.py), a user linked to a new account at a partner."""
from __future__ import annotations

import uuid

from tests.support.api import call

BIKE = "bikeshare"  # the demo catalog's first open-protocol partner, the fake's default id


def link_code(client, user: dict, partner: str = BIKE) -> tuple[int, dict]:
    return call(client, "POST", f"/v1/partners/{partner}/link-code", token=user["token"])


def link(client, fake, code: str, user_ref: str, **forge) -> tuple[int, dict]:
    """The fake partner's signed POST /v1/open/links (`partner=` another id it plays; other fields forge it)."""
    path, headers, body = fake.link_request(code, user_ref, **forge)
    return call(client, "POST", path, body, headers=headers)


def push(client, fake, events, **forge) -> tuple[int, dict]:
    """The fake partner's signed POST /v1/webhooks/{partner} of `events`."""
    path, headers, body = fake.webhook_request(events, **forge)
    return call(client, "POST", path, body, headers=headers)


def linked(client, fake, user: dict, partner: str = BIKE) -> str:
    """The user linked to a new account at `partner`, by a link code; its user_ref."""
    user_ref = f"{partner}_{uuid.uuid4().hex[:12]}"
    status, issued = link_code(client, user, partner)
    assert status == 201, issued
    status, body = link(client, fake, issued["link_code"], user_ref, partner=partner)
    assert (status, body["linked"]) == (200, True), body
    return user_ref
