"""Our session tokens: HS256 JWTs whose every claim is required when read back.

A staff token also carries `sid`, the staff member's id: a keyed digest of their WeChat openid (never the
openid itself, which the token's readable payload must not show). Staff routes look it up in the catalog on
every request (services/staff.py), so someone removed from a merchant's `staff_openids` loses the role within
the catalog cache's minute, not when their token expires.

Every token names its platform in `plt` (shared/contract/platforms.md: a token is for one user on one
platform). A token without `plt` was issued before platforms existed, when every user was the `default`
platform's: it is read as `default`'s (no user was logged out by the change); a `plt` that is not a platform id
makes the token malformed. The claims of REQUIRED stay required whatever `plt` says.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from functools import lru_cache

import jwt

from ..domain.platforms import DEFAULT, is_platform_id
from ..domain.values import immutable
from ..errors import UnauthenticatedError
from ..settings import get_settings

ALGORITHM = "HS256"
LEEWAY_SECONDS = 5
REQUIRED = ["sub", "iss", "aud", "iat", "exp", "jti"]
ROLES = ("user", "merchant_staff")
STAFF_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # 132 bits of HMAC-SHA256, base64url


@immutable
class Caller:
    """Who is calling, from a verified token."""

    user_id: str
    roles: tuple[str, ...]
    merchant_id: str | None = None
    staff_id: str | None = None  # `sid`: staff_id(openid), set on staff tokens only
    platform: str = DEFAULT  # `plt`: the platform the user is a user of

    @property
    def is_staff(self) -> bool:
        """What the token claims; whether the catalog still agrees is services/staff.require_staff's question."""
        return "merchant_staff" in self.roles and self.merchant_id is not None and self.staff_id is not None


@lru_cache(maxsize=4)
def _staff_key(jwt_secret: bytes) -> bytes:
    """A key of its own for staff ids, derived from JWT_SECRET: a staff id means something only inside a token
    signed with that secret, and rotating the secret changes every staff id: a staff token still accepted under
    JWT_SECRET_PREVIOUS keeps its user's routes, and staff routes answer 403 until its holder logs in again."""
    return hmac.new(jwt_secret, b"greensprout staff id v1", hashlib.sha256).digest()


def staff_id(openid: str) -> str:
    """The `sid` of a staff member: it names one openid without showing it (services/catalog.py keeps the
    ids of the listed staff, computed once per load of the `staff` partition)."""
    digest = hmac.new(_staff_key(get_settings().jwt_secret), b"staff|" + openid.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


# Tokens this container has verified, with their expiry: the same bytes under the same secret, issuer and
# audience verify the same way, so a repeat only has its expiry checked again (PyJWT's decode is a sixth
# of a request's own time: docs/performance.md).
_VERIFIED: dict[str, tuple[tuple, int, Caller]] = {}
MAX_VERIFIED = 10_000


def issue(user_id: str, roles: tuple[str, ...], merchant_id: str | None = None,
          sid: str | None = None, platform: str = DEFAULT) -> tuple[str, int]:
    """A fresh token and its lifetime in seconds; a staff token needs `sid`, the staff_id of the openid."""
    if not is_platform_id(platform):
        raise ValueError("a token names its platform")
    settings = get_settings()
    now = int(time.time())
    claims = {"sub": user_id, "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + settings.jwt_ttl_seconds, "jti": secrets.token_urlsafe(12), "roles": list(roles),
              "mid": merchant_id, "plt": platform}
    if "merchant_staff" in roles:
        if not (merchant_id and sid and STAFF_ID.fullmatch(sid)):
            raise ValueError("a staff token needs its merchant and staff id")
        claims["sid"] = sid
    return (jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM, headers={"kid": key_id(settings.jwt_secret)}),
            settings.jwt_ttl_seconds)


@lru_cache(maxsize=4)
def key_id(jwt_secret: bytes) -> str:
    """The `kid` header of the tokens a secret signs: a digest naming the secret, never the secret."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"greensprout jwt kid|" + jwt_secret).digest()).decode()[:12]


def _secrets_for(token: str, settings) -> list[bytes]:
    """Which secrets may have signed `token`, by its `kid`: JWT_SECRET, or JWT_SECRET_PREVIOUS while a
    rotation lets the tokens it signed run out (docs/deploy.md). A token without `kid` (issued before kids)
    may have been signed by either; an unknown `kid` by neither. Only the key is chosen here: the algorithm
    stays HS256 and every claim is required, whichever secret verifies."""
    known = [s for s in (settings.jwt_secret, settings.jwt_secret_previous) if s]
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise UnauthenticatedError() from exc
    if kid is None:
        return known
    return [s for s in known if isinstance(kid, str) and hmac.compare_digest(key_id(s), kid)]


def verify(authorization: str | None) -> Caller:
    """The caller of `Authorization: Bearer <token>`; UNAUTHENTICATED for anything less than valid."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError()
    token, settings = token.strip(), get_settings()
    under = (settings.jwt_secret, settings.jwt_secret_previous, settings.jwt_issuer, settings.jwt_audience)
    known = _VERIFIED.get(token)
    if known and known[0] == under and time.time() < known[1] + LEEWAY_SECONDS:
        return known[2]
    claims = _decode(token, settings)
    roles, merchant_id = claims.get("roles"), claims.get("mid", ...)
    if (not isinstance(claims["sub"], str) or not isinstance(roles, list) or "user" not in roles
            or not set(roles) <= set(ROLES) or merchant_id is ...
            or not (merchant_id is None or isinstance(merchant_id, str))):
        raise UnauthenticatedError()
    if ("merchant_staff" in roles) != (merchant_id is not None):
        raise UnauthenticatedError()
    platform = claims.get("plt", DEFAULT)  # none: issued before platforms, to a `default` user
    if not is_platform_id(platform):
        raise UnauthenticatedError()
    caller = _caller(claims["sub"], roles, merchant_id, claims.get("sid", ...), platform)
    if len(_VERIFIED) >= MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED[token] = (under, int(claims["exp"]), caller)
    return caller


def _decode(token: str, settings) -> dict:
    """The claims of a token one of our secrets signed (HS256, every claim required, our issuer and audience)."""
    for secret in _secrets_for(token, settings):
        try:
            return jwt.decode(token, secret, algorithms=[ALGORITHM], audience=settings.jwt_audience,
                              issuer=settings.jwt_issuer, leeway=LEEWAY_SECONDS,
                              options={"require": REQUIRED, "verify_signature": True})
        except jwt.InvalidSignatureError:
            continue  # a token without kid: the other secret may have signed it
        except jwt.PyJWTError as exc:
            raise UnauthenticatedError() from exc
    raise UnauthenticatedError()


def _caller(user_id: str, roles: list, merchant_id: str | None, sid: object, platform: str) -> Caller:
    """A staff token is honoured as staff only with its `sid`. One issued before staff ids existed (it has
    none) is still a user's token: staff routes refuse it with 403 FORBIDDEN until its holder logs in again.
    A `sid` we never issue (on a user's token, or not of its form) makes the token malformed."""
    if "merchant_staff" not in roles:
        if sid is not ...:
            raise UnauthenticatedError()
        return Caller(user_id, tuple(roles), platform=platform)
    if sid is ...:
        return Caller(user_id, ("user",), platform=platform)
    if not isinstance(sid, str) or not STAFF_ID.fullmatch(sid):
        raise UnauthenticatedError()
    return Caller(user_id, tuple(roles), merchant_id, sid, platform)
