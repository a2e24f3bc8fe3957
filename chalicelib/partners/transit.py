"""The bus company's open API (shared/partners/transit.md), reached through TRANSIT_API_BASE.

Every attempt is signed with a fresh timestamp and nonce (HMAC-SHA256 with TRANSIT_SECRET).
"""
from __future__ import annotations

import json
import logging
import time

from ..domain.values import immutable
from ..errors import PartnerRejectedError, PartnerUnavailableError
from ..settings import get_settings
from . import partner_requests
from .partner_requests import CURSOR_MAX, Outgoing, bounded, in_path, json_of, unexpected
from .signing import sorted_query, transit_headers

log = logging.getLogger(__name__)
PARTNER = "transit"
PAGE_SIZE = 100


@immutable
class Binding:
    """What the partner returns when a user authorizes us."""

    authorization_id: str
    partner_ref: str


@immutable
class Page:
    """One page of raw events, and where the next page starts."""

    events: list
    cursor: str | None
    has_more: bool


class TransitClient:
    def __init__(self, base: str, app_id: str, secret: str) -> None:
        self.base, self.app_id, self.secret = base, app_id, secret

    def authorize(self, phone: str) -> Binding:
        """POST /v1/authorizations; ALREADY_AUTHORIZED counts as success; NO_SUCH_RIDER -> PARTNER_REJECTED."""
        response = self._request("POST", "/v1/authorizations", body={"phone": phone, "scope": "rides"})
        data = json_of(response)
        authorization_id, user_ref = bounded(data.get("authorization_id")), bounded(data.get("user_ref"))
        if response.status_code in (201, 409) and authorization_id and user_ref:
            return Binding(authorization_id, user_ref)
        if response.status_code == 404:
            raise PartnerRejectedError(partner=PARTNER)
        raise unexpected(PARTNER, response)

    def revoke(self, authorization_id: str) -> None:
        """DELETE /v1/authorizations/{id}; an authorization the partner no longer knows is revoked too."""
        response = self._request("DELETE", f"/v1/authorizations/{in_path(authorization_id)}")
        if response.status_code not in (200, 204, 404):
            raise unexpected(PARTNER, response)

    def page(self, user_ref: str, cursor: str | None) -> Page:
        """GET /v1/rides from `cursor` (the beginning of the authorization when None), oldest first."""
        query = {"user_ref": user_ref, "limit": str(PAGE_SIZE), **({"cursor": cursor} if cursor else {})}
        response = self._request("GET", "/v1/rides", query=query)
        data = json_of(response)
        if response.status_code != 200 or not isinstance(data.get("rides"), list):
            raise unexpected(PARTNER, response)
        next_cursor = data.get("next_cursor")
        if next_cursor and not bounded(next_cursor, CURSOR_MAX):
            raise unexpected(PARTNER, response)
        return Page(data["rides"], str(next_cursor) if next_cursor else cursor, bool(data.get("has_more")))

    def _request(self, method: str, path: str, query: dict | None = None, body: dict | None = None):
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        request = partner_requests.outgoing(method, self.base, path, sorted_query(query), raw,
                                        "application/json" if body is not None else None)
        response = partner_requests.send(PARTNER, request, self._sign)
        if response.status_code == 401:  # our signature or clock is wrong: nothing a retry fixes
            log.error("transit refused our signature: %s", json_of(response).get("code"))
            raise PartnerUnavailableError(partner=PARTNER)
        return response

    def _sign(self, request: Outgoing) -> dict[str, str]:
        return transit_headers(self.app_id, self.secret, request.method, request.path, request.query,
                               request.body, time.time())


def client() -> TransitClient:
    """The client configured by TRANSIT_*; PARTNER_UNAVAILABLE when this stage has none."""
    settings = get_settings()
    if not (settings.transit_api_base and settings.transit_app_id and settings.transit_secret):
        log.error("TRANSIT_API_BASE, TRANSIT_APP_ID and TRANSIT_SECRET must be set")
        raise PartnerUnavailableError(partner=PARTNER)
    return TransitClient(settings.transit_api_base, settings.transit_app_id, settings.transit_secret)
