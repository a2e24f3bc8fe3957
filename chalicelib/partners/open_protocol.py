"""What GreenSprout calls at an open-protocol partner (shared/partners/open-protocol.md): its `revoke_url`.

The call is signed like the partner's own calls to us (X-GS-* headers, the partner's secret, a fresh timestamp
and nonce each attempt) and retried by partner_requests.send; a partner that does not answer 2xx is
PARTNER_UNAVAILABLE, and the revocation is left to the retry job (services/consent.retry_revocations).

An open-protocol consent's authorization id is "{link id}#{user_ref}" (services/open_links.py): unique to the
link, so a consent bound anew is told from the old one, and carrying the `user_ref` the revocation names.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from ..errors import PartnerUnavailableError
from . import partner_requests
from .partner_requests import Outgoing, unexpected
from .signing import open_headers


def authorization_id(link_id: str, user_ref: str) -> str:
    return f"{link_id}#{user_ref}"


def user_ref_of(authorization: str) -> str:
    return authorization.partition("#")[2]


class OpenClient:
    def __init__(self, partner_id: str, revoke_url: str | None, secret: str) -> None:
        self.partner_id, self.revoke_url, self.secret = partner_id, revoke_url, secret

    def revoke(self, authorization: str) -> None:
        """POST revoke_url {"user_ref"}; a partner whose entry gives no revoke_url has nothing to be told."""
        if not self.revoke_url:
            return
        if not self.secret:
            raise PartnerUnavailableError(partner=self.partner_id)
        parts = urlsplit(self.revoke_url)
        body = json.dumps({"user_ref": user_ref_of(authorization)}, ensure_ascii=False).encode()
        base = f"{parts.scheme}://{parts.netloc}"
        request = partner_requests.outgoing("POST", base, parts.path or "/", parts.query, body, "application/json")
        response = partner_requests.send(self.partner_id, request, self._sign)
        if not 200 <= response.status_code < 300:
            raise unexpected(self.partner_id, response)

    def authorize(self, phone: str):  # noqa: ARG002 - the open protocol links by code, never by phone
        raise PartnerUnavailableError(partner=self.partner_id)

    def page(self, partner_ref: str, cursor: str | None):  # noqa: ARG002 - the open protocol only pushes
        raise PartnerUnavailableError(partner=self.partner_id)

    def _sign(self, request: Outgoing) -> dict[str, str]:
        return open_headers(self.partner_id, self.secret, request.method, request.path, request.body, time.time())
