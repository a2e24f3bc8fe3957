"""Linking a user to an open-protocol partner (shared/partners/open-protocol.md, "Linking a user").

    POST /v1/partners/{id}/link-code (the user)  -> issue: a code of 16 characters (80 random bits), 10 minutes
    POST /v1/open/links (the partner, signed)     -> link: the code claimed, the consent bound to `user_ref`

The code is the user's, on their platform, for that partner: another partner's code, a used or an unknown one is
404 CODE_NOT_FOUND, an expired one 410 CODE_EXPIRED, and neither uses it up. The bind is the consent's bind
(store/repositories_consent.Bindings: the consent put and the partner account's link claimed for the person in
one transaction), so another person's `user_ref` is 409 PARTNER_ACCOUNT_TAKEN and gives the code back. A partner
that lost the answer and links again with the same code and `user_ref` gets the same answer. The consent's
authorization id is "{link id}#{user_ref}" (partners/open_protocol.py): a link is told from a later one, and a
revocation names the `user_ref` to the partner's `revoke_url`.
"""
from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from ..domain import clock, ids
from ..domain import consents as rules
from ..domain.consents import BOUND, TAKEN
from ..domain.platforms import DEFAULT
from ..domain.values import immutable
from ..errors import (
    AppError,
    BadSignatureError,
    InvalidJSONError,
    LinkCodeExpiredError,
    LinkCodeNotFoundError,
    NoOpenPartnerError,
    PartnerAccountTakenError,
    ReplayedError,
    ServiceUnavailableError,
    UnknownPartnerError,
    ValidationError,
)
from ..partners.open_protocol import authorization_id
from ..partners.signing import SignatureError, verify_open
from ..settings import get_settings
from .consent import revoke
from .partners import partner
from .webhooks import NONCE_WINDOW, open_guard

LINK_CODE_TTL = timedelta(minutes=10)
CODE_LENGTH = 16  # 80 random bits (open-protocol.md: at least 12 characters and 60 bits)
LINKS_PATH = "/v1/open/links"
ATTEMPTS = 3


@immutable
class LinkCodeIssued:
    link_code: str
    expires_at: str


@immutable
class Linked:
    bound_at: str


def issue(user_id: str, partner_id: str, platform: str, codes: Any, consents: Any) -> LinkCodeIssued:
    """A fresh code for the caller, their platform and the partner (404 UNKNOWN_PARTNER where the platform does
    not work with it; NOT_AN_OPEN_PARTNER for transit and the bank, which bind by phone)."""
    spec = partner(partner_id, platform)
    if not spec.is_open:
        raise NoOpenPartnerError(partner=spec.id)
    consents.refuse_deleted(user_id)
    now = clock.now()
    expires = now + LINK_CODE_TTL
    link_id = ids.sortable_id(int(now.timestamp() * 1000))
    for _ in range(ATTEMPTS):
        code = ids.random_code(CODE_LENGTH)
        if codes.add(code, user_id, None if platform == DEFAULT else platform, spec.id, link_id, now, expires):
            return LinkCodeIssued(code, clock.iso(expires))
    raise ServiceUnavailableError()


def link(headers: dict[str, str], body: bytes, codes: Any, consents: Any, replay_guards: Any) -> Linked:
    """The partner's signed link of a user: the code claimed for `user_ref`, the consent bound from now."""
    headers = {name.lower(): value for name, value in headers.items()}
    partner_id = headers.get("x-gs-partner") or ""
    try:
        spec = partner(partner_id)
    except UnknownPartnerError:
        raise BadSignatureError() from None  # open-protocol.md: an unknown partner is a bad signature
    if not spec.is_open:
        raise BadSignatureError()
    try:
        nonce = verify_open(headers, spec.id, get_settings().partner_secret_of(spec.id), "POST", LINKS_PATH, body,
                            time.time())
    except SignatureError as exc:
        raise (ReplayedError() if exc.replay else BadSignatureError()) from None
    code, user_ref = _fields(body)
    if not replay_guards.claim(open_guard(spec.id, nonce), NONCE_WINDOW):
        raise ReplayedError()
    try:
        return _link(spec.id, code, user_ref, codes, consents)
    except AppError as refused:
        if refused.status >= 500:
            replay_guards.release(open_guard(spec.id, nonce))  # the partner retries this request: let it through
        raise


def _fields(body: bytes) -> tuple[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidJSONError() from None
    data = data if isinstance(data, dict) else {}
    code, user_ref = data.get("link_code"), data.get("user_ref")
    if not isinstance(code, str) or not 1 <= len(code) <= 64:
        raise ValidationError("link_code 须为绿芽小程序给出的连接码", field="link_code")
    if not isinstance(user_ref, str) or not 1 <= len(user_ref) <= 128 or "#" in user_ref:
        raise ValidationError("user_ref 须为 1 到 128 个字符（不含 #）", field="user_ref")
    return code, user_ref


def _link(partner_id: str, code: str, user_ref: str, codes: Any, consents: Any) -> Linked:
    now = clock.now()
    found = codes.get(code)
    if found is None or found.partner != partner_id or found.used_by not in (None, user_ref):
        raise LinkCodeNotFoundError()
    if found.expires_epoch <= int(now.timestamp()):
        raise LinkCodeExpiredError()
    if not codes.claim(code, partner_id, user_ref, now):
        raise LinkCodeNotFoundError()  # used, or expired, a moment ago
    try:
        return _bind(found, user_ref, consents)
    except PartnerAccountTakenError:
        codes.give_back(code, user_ref)
        raise


def _bind(found: Any, user_ref: str, consents: Any) -> Linked:
    platform = found.platform or DEFAULT
    try:
        account = consents.refuse_deleted(found.user_id)
    except AppError:
        raise LinkCodeNotFoundError() from None  # the user deleted their account since
    holder = rules.holder_of(account, found.user_id, platform)
    authorization = authorization_id(found.link_id, user_ref)
    for _ in range(ATTEMPTS):
        consent = consents.get(found.user_id, found.partner)
        if consent and consent.is_bound and consent.partner_ref == user_ref:
            return Linked(consent.bound_at)  # this link answered before, or the same account linked again
        if consent and consent.is_bound:  # linked before to another account of the partner: that one ends
            revoke(found.user_id, found.partner, consents, platform=platform)
            continue
        after = rules.bound(consent, found.user_id, found.partner, user_ref, authorization, clock.iso(clock.now()),
                            cursor_per_authorization=False)
        outcome = consents.bind(consent, after, holder)
        if outcome == BOUND:
            return Linked(after.bound_at)
        if outcome == TAKEN:
            raise PartnerAccountTakenError(partner=found.partner)
    raise ServiceUnavailableError()
