"""The bank's green-finance open API (shared/partners/bank.md), reached through BANK_API_BASE.

OAuth 2.0 client credentials: the token comes from a `TokenSource` (the services give it one shared
by every container through DynamoDB: the bank allows 10 token requests a minute for all of us). On
401 `invalid_token` the token is refreshed once and the call retried once.
"""
from __future__ import annotations

import json
import logging
from typing import Protocol
from urllib.parse import urlencode

from ..errors import PartnerRejectedError, PartnerUnavailableError
from ..settings import get_settings
from . import partner_requests
from .partner_requests import CURSOR_MAX, bounded, in_path, json_of, unexpected
from .signing import sorted_query
from .transit import Binding, Page

log = logging.getLogger(__name__)
PARTNER = "bank"
PAGE_SIZE = 200


class TokenSource(Protocol):
    def get(self) -> str: ...

    def refresh(self, failed: str) -> str: ...


class BankClient:
    def __init__(self, base: str, client_id: str, client_secret: str, tokens: TokenSource | None = None) -> None:
        self.base, self.client_id, self.client_secret = base, client_id, client_secret
        self.tokens = tokens

    def fetch_token(self) -> tuple[str, int]:
        """POST /oauth/token (client credentials): (access_token, expires_in seconds)."""
        form = urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                          "client_secret": self.client_secret}).encode()
        request = partner_requests.outgoing("POST", self.base, "/oauth/token", body=form,
                                        content_type="application/x-www-form-urlencoded")
        response = partner_requests.send(PARTNER, request, lambda _: {})
        data = json_of(response)
        if response.status_code != 200 or not isinstance(data.get("access_token"), str):
            raise unexpected(PARTNER, response)
        return data["access_token"], int(data.get("expires_in") or 0)

    def authorize(self, phone: str) -> Binding:
        """POST /v1/consents; `consent_exists` counts as success; `no_customer` -> PARTNER_REJECTED."""
        response = self._request("POST", "/v1/consents", body={"phone": phone, "scopes": ["green_events"]})
        data = json_of(response)
        consent_id, customer_ref = bounded(data.get("consent_id")), bounded(data.get("customer_ref"))
        if response.status_code in (201, 409) and consent_id and customer_ref:
            return Binding(consent_id, customer_ref)
        if response.status_code == 404:
            raise PartnerRejectedError(partner=PARTNER)
        raise unexpected(PARTNER, response)

    def revoke(self, consent_id: str) -> None:
        response = self._request("DELETE", f"/v1/consents/{in_path(consent_id)}")
        if response.status_code not in (200, 204, 404):
            raise unexpected(PARTNER, response)

    def page(self, customer_ref: str, after: str | None) -> Page:
        """GET /v1/green-events after the event id `after` (the beginning when None), in event_id order."""
        query = {"customer_ref": customer_ref, "limit": str(PAGE_SIZE), **({"after": after} if after else {})}
        response = self._request("GET", "/v1/green-events", query=query)
        data = json_of(response)
        if response.status_code != 200 or not isinstance(data.get("events"), list):
            raise unexpected(PARTNER, response)
        events = data["events"]
        ids = [e["event_id"] for e in events if isinstance(e, dict) and isinstance(e.get("event_id"), str)
               and bounded(e["event_id"], CURSOR_MAX)]
        return Page(events, ids[-1] if ids else after, bool(data.get("has_more")) and bool(ids))

    def _request(self, method: str, path: str, query: dict | None = None, body: dict | None = None):
        if self.tokens is None:
            raise RuntimeError("BankClient needs a token source for API calls")
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        request = partner_requests.outgoing(method, self.base, path, sorted_query(query), raw,
                                        "application/json" if body is not None else None)
        token = self.tokens.get()
        for refreshed in (False, True):
            response = partner_requests.send(PARTNER, request, lambda _, t=token: {"Authorization": f"Bearer {t}"})
            if response.status_code != 401:
                return response
            if refreshed:
                break
            token = self.tokens.refresh(failed=token)
        log.error("bank refused a fresh token: %s", json_of(response).get("error"))
        raise PartnerUnavailableError(partner=PARTNER)


def configured() -> BankClient:
    """A client configured by BANK_* (without a token source); PARTNER_UNAVAILABLE when this stage has none."""
    settings = get_settings()
    if not (settings.bank_api_base and settings.bank_client_id and settings.bank_client_secret):
        log.error("BANK_API_BASE, BANK_CLIENT_ID and BANK_CLIENT_SECRET must be set")
        raise PartnerUnavailableError(partner=PARTNER)
    return BankClient(settings.bank_api_base, settings.bank_client_id, settings.bank_client_secret)
