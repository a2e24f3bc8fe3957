"""Per-user limit on write requests: a token bucket per user, held in the container's memory.

Every authenticated write (POST, PUT, PATCH, DELETE, and GET /v1/me/member-code, which stores a code)
takes one token from its caller's bucket; an empty bucket is 429 RATE_LIMITED before the route reads
its body or touches DynamoDB. A bucket holds WRITE_RATE_PER_MINUTE tokens and refills at that rate, so
a person tapping through the mini program never notices and a script looping on a write is cut to one
write a second after its first burst. Reads are never limited here.

Why memory and not a DynamoDB counter: a counter is one more write on every request (the check-in and
the redemption budgets are one GetItem and one TransactWriteItems), and its item is hot exactly when
someone is abusing it. The bucket costs nothing, and API Gateway's stage throttling (infra/aws) bounds
the whole API in front of it. The price is that each warm Lambda container keeps its own buckets: a
script that keeps N requests in flight at once can reach N containers and get up to N times the limit.
The points themselves are bounded anyway, exactly, by the per-behaviour daily caps that every award
checks inside its own transaction (docs/reliability.md).

Logins have no user yet: each takes a token from its source IP's bucket (API Gateway's
`requestContext.identity.sourceIp`; an IPv6 address counts by its /64, what one subscriber is given),
LOGIN_RATE_PER_MINUTE of them, before the body is read and before WeChat's code2session is called. Per
container as well, for the same reasons: a counter would add a DynamoDB write to every login, and a
mobile carrier's NAT puts many honest people behind one address, so this bucket only stops one client
hammering one container; the guard across containers is API Gateway's login throttle and the WAF
rate-based rule per IP in front of the API (infra/aws).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from .errors import RateLimitedError
from .settings import get_settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITING_READS = frozenset({"/v1/me/member-code"})  # a GET that stores something (a fresh member code)
MAX_USERS = 10_000  # buckets kept per container; the least recently seen user is forgotten first


class TokenBuckets:
    """Token buckets keyed by user id: `capacity` tokens, refilled at `per_minute` a minute."""

    def __init__(self, per_minute: int, capacity: int | None = None, clock=time.monotonic,
                 max_users: int = MAX_USERS) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(capacity or per_minute)
        self.clock = clock
        self.max_users = max_users
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # user -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, user_id: str) -> float | None:
        """Takes one token; None when granted, else the seconds until one is there again."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(user_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            granted = tokens >= 1.0
            self._buckets[user_id] = (tokens - 1.0 if granted else tokens, now)
            while len(self._buckets) > self.max_users:
                self._buckets.popitem(last=False)
        return None if granted else (1.0 - tokens) / self.rate


_writes: TokenBuckets | None = None
_logins: TokenBuckets | None = None


def writes() -> TokenBuckets:
    """This container's buckets for write requests, built once from the settings."""
    global _writes
    if _writes is None:
        _writes = TokenBuckets(get_settings().write_rate_per_minute)
    return _writes


def logins() -> TokenBuckets:
    """This container's buckets for logins, one per client address, built once from the settings."""
    global _logins
    if _logins is None:
        _logins = TokenBuckets(get_settings().login_rate_per_minute)
    return _logins


def client_key(source_ip: str | None) -> str:
    """The bucket of a source address: an IPv4 address as it is, an IPv6 one by its /64 prefix (a client
    given a /64 can change the rest at will); anything else (no address) shares one bucket."""
    import ipaddress  # only on the login route: kept out of every other cold start

    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def admit_login(source_ip: str | None) -> None:
    """RATE_LIMITED when this client address has used up its logins for now (nothing is asked of WeChat)."""
    wait = logins().take(client_key(source_ip))
    if wait is not None:
        raise RateLimitedError(retry_after_seconds=max(1, round(wait)))


def is_write(method: str, route: str | None) -> bool:
    return method.upper() in WRITE_METHODS or route in WRITING_READS


def admit_write(user_id: str, method: str, route: str | None) -> None:
    """RATE_LIMITED when `user_id` has used up their writes; reads always pass."""
    if not is_write(method, route):
        return
    wait = writes().take(user_id)
    if wait is not None:
        raise RateLimitedError(retry_after_seconds=max(1, round(wait)))
