"""A partner access token shared by every container: in memory, then in DynamoDB, then from the partner.

The bank answers 429 to more than 10 token requests a minute across all our Lambdas, so a container
never asks on its own initiative while a valid token sits in `partner_tokens`. When one must be fetched
(none yet, about to expire, or refused by the partner), the container that wins a conditional lease
fetches it; the others wait for its token instead of asking too. The token is sealed at rest.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from pynamodb.exceptions import UpdateError

from ..domain.values import immutable
from ..errors import AppError, PartnerUnavailableError
from ..sealing import seal, unseal
from .access import on
from .partners import PartnerToken

log = logging.getLogger(__name__)
MARGIN_SECONDS = 60  # refresh this long before the partner's expiry
LEASE_SECONDS = 10  # a refresher that died frees the lease after this
WAIT_SECONDS, WAIT_STEP = 5.0, 0.1


@immutable
class _Cached:
    token: str
    expires_at: float
    version: int

    def fresh(self, now: float) -> bool:
        return self.expires_at - MARGIN_SECONDS > now


class SharedToken:
    """`get()` a valid token; `refresh(failed)` after the partner refused `failed`."""

    ACCESS = (on(PartnerToken, "GetItem", "UpdateItem"),)

    def __init__(self, partner: str, fetch: Callable[[], tuple[str, int]]) -> None:
        self.partner = partner
        self.fetch = fetch
        self._memory: _Cached | None = None

    def get(self) -> str:
        now = time.time()
        if self._memory and self._memory.fresh(now):
            return self._memory.token
        stored = self._read()
        if stored and stored.fresh(now):
            self._memory = stored
            return stored.token
        return self._renew(stored.version if stored else 0)

    def refresh(self, failed: str) -> str:
        """A new token unless another container already replaced `failed` (then theirs)."""
        self._memory = None
        stored = self._read()
        if stored and stored.token != failed and stored.fresh(time.time()):
            self._memory = stored
            return stored.token
        return self._renew(stored.version if stored else 0)

    def forget(self) -> None:
        """Drop the in-memory copy (what a new container starts with)."""
        self._memory = None

    def _read(self) -> _Cached | None:
        try:
            item = PartnerToken.get(self.partner, consistent_read=True)
        except PartnerToken.DoesNotExist:
            return None
        if not item.token_sealed:
            return _Cached("", 0, int(item.version))
        return _Cached(unseal(item.token_sealed, self._context), float(item.expires_at), int(item.version))

    def _renew(self, seen_version: int) -> str:
        if not self._take_lease(seen_version):
            return self._wait_for(seen_version)
        try:
            token, expires_in = self.fetch()
        except AppError:
            self._release(seen_version)
            raise
        expires_at = time.time() + max(expires_in, 0)
        PartnerToken(self.partner).update(actions=[
            PartnerToken.token_sealed.set(seal(token, self._context)), PartnerToken.expires_at.set(int(expires_at)),
            PartnerToken.version.set(seen_version + 1), PartnerToken.lease_until.set(0)])
        self._memory = _Cached(token, expires_at, seen_version + 1)
        return token

    def _take_lease(self, seen_version: int) -> bool:
        now = int(time.time())
        unchanged = PartnerToken.partner.does_not_exist() | (PartnerToken.version == seen_version)
        free = PartnerToken.lease_until.does_not_exist() | (PartnerToken.lease_until < now)
        try:
            PartnerToken(self.partner).update(actions=[PartnerToken.lease_until.set(now + LEASE_SECONDS)],
                                              condition=unchanged & free)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _release(self, seen_version: int) -> None:
        try:
            PartnerToken(self.partner).update(actions=[PartnerToken.lease_until.set(0)],
                                              condition=PartnerToken.version == seen_version)
        except UpdateError:
            log.warning("could not release the %s token lease", self.partner)

    def _wait_for(self, seen_version: int) -> str:
        """Another container holds the lease: use the token it stores."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP)
            stored = self._read()
            if stored and stored.version > seen_version and stored.fresh(time.time()):
                self._memory = stored
                return stored.token
        raise PartnerUnavailableError(partner=self.partner)

    @property
    def _context(self) -> str:
        return token_context(self.partner)


def token_context(partner: str) -> str:
    """What a partner's sealed token is bound to (also for `python -m admin reseal`)."""
    return f"partner-token#{partner}"
