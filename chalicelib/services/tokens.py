"""Our session tokens: HS256 JWTs whose every claim is required when read back."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from ..errors import UnauthenticatedError
from ..settings import get_settings

ALGORITHM = "HS256"
LEEWAY_SECONDS = 5
REQUIRED = ["sub", "iss", "aud", "iat", "exp", "jti"]
ROLES = ("user", "merchant_staff")


@dataclass(frozen=True)
class Caller:
    """Who is calling, from a verified token."""

    user_id: str
    roles: tuple[str, ...]
    merchant_id: str | None = None

    @property
    def is_staff(self) -> bool:
        return "merchant_staff" in self.roles and self.merchant_id is not None


# Tokens this container has verified, with their expiry: the same bytes under the same secret, issuer and
# audience verify the same way, so a repeat only has its expiry checked again (PyJWT's decode is a sixth
# of a request's own time: docs/performance.md).
_VERIFIED: dict[str, tuple[tuple[str, str, str], int, Caller]] = {}
MAX_VERIFIED = 10_000


def issue(user_id: str, roles: tuple[str, ...], merchant_id: str | None = None) -> tuple[str, int]:
    """A fresh token and its lifetime in seconds."""
    settings = get_settings()
    now = int(time.time())
    claims = {"sub": user_id, "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + settings.jwt_ttl_seconds, "jti": secrets.token_urlsafe(12), "roles": list(roles),
              "mid": merchant_id}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM), settings.jwt_ttl_seconds


def verify(authorization: str | None) -> Caller:
    """The caller of `Authorization: Bearer <token>`; UNAUTHENTICATED for anything less than valid."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError()
    token, settings = token.strip(), get_settings()
    under = (settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience)
    known = _VERIFIED.get(token)
    if known and known[0] == under and time.time() < known[1] + LEEWAY_SECONDS:
        return known[2]
    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM],
                            audience=settings.jwt_audience, issuer=settings.jwt_issuer, leeway=LEEWAY_SECONDS,
                            options={"require": REQUIRED, "verify_signature": True})
    except jwt.PyJWTError as exc:
        raise UnauthenticatedError() from exc
    roles, merchant_id = claims.get("roles"), claims.get("mid", ...)
    if (not isinstance(claims["sub"], str) or not isinstance(roles, list) or "user" not in roles
            or not set(roles) <= set(ROLES) or merchant_id is ...
            or not (merchant_id is None or isinstance(merchant_id, str))):
        raise UnauthenticatedError()
    if ("merchant_staff" in roles) != (merchant_id is not None):
        raise UnauthenticatedError()
    caller = Caller(claims["sub"], tuple(roles), merchant_id)
    if len(_VERIFIED) >= MAX_VERIFIED:
        _VERIFIED.clear()
    _VERIFIED[token] = (under, int(claims["exp"]), caller)
    return caller
