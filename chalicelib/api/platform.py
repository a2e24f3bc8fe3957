"""GET /v1/platform, and which platform a request is for (shared/contract/platforms.md, "API").

The platform of a request: the token's (`plt`) on a request carrying a valid token, else the `X-Platform`
header, else `default`. `platform_edge` (an HTTP middleware, app.py) decides it before any route:
- an `X-Platform` that names no platform: 404 UNKNOWN_PLATFORM (`default` and a missing header read nothing;
  another id is looked up in the catalog's `platform` partition, cached a minute per container);
- a valid token with an `X-Platform` of another platform: 403 PLATFORM_MISMATCH.
Every route serves every platform: each reads and writes the caller's platform's objects only, and another
platform's object answers exactly as a missing one (tests/integration/test_platform_isolation.py).
`default`'s requests without the header pass through untouched.
"""
from __future__ import annotations

from ..domain.platforms import DEFAULT
from ..errors import AppError, PlatformMismatchError
from ..services import platforms, subscriptions, tokens
from ..store.failures import of_database
from .web import Routes, error_response, respond

routes = Routes(__name__)
HEADER = "x-platform"


def request_platform(request) -> str:
    """The platform a request names by its `X-Platform` header (`default` without one); not yet checked."""
    header = (request.headers or {}).get(HEADER)
    return DEFAULT if header is None else header


def _token_platform(request) -> str | None:
    authorization = (request.headers or {}).get("authorization")
    if not authorization:
        return None
    try:
        return tokens.verify(authorization).platform  # cached per token: the route's own verify costs nothing
    except AppError:
        return None  # an invalid token: the route answers 401 itself (or ignores it, if anyone may call it)


def resolve(request) -> str:
    """The request's platform, checked (see the module's docstring)."""
    header = (request.headers or {}).get(HEADER)
    if header is not None:
        platforms.require_known(header)
    token_platform = _token_platform(request)
    if token_platform is not None and header is not None and header != token_platform:
        raise PlatformMismatchError(platform=header)
    return token_platform or header or DEFAULT


def platform_edge(event, get_response):
    """HTTP middleware: resolve the platform before the route; refuse as the module's docstring says."""
    headers = event.headers or {}
    if HEADER not in headers and "authorization" not in headers:
        return get_response(event)  # `default`, as before platforms: nothing to read, nothing to verify
    try:
        resolve(event)
    except AppError as error:
        return error_response(error)
    except Exception as exc:  # the catalog could not be read: typed as the edge types it (store/failures.py)
        typed = of_database(exc)
        if typed is None:
            raise
        return error_response(typed)
    return get_response(event)


def platform_json(platform_id: str) -> dict:
    """`{"id", "name"}`: what the login's `user` and GET /v1/me say of the caller's platform."""
    return {"id": platform_id, "name": platforms.name_of(platform_id)}


@routes.route("/v1/platform", methods=["GET"])
def get_platform():
    """What the mini program needs to draw itself (anyone; the token's platform, else X-Platform)."""
    found = platforms.platform(resolve(routes.current_request))
    return respond(200, {"id": found.id, "name": found.name, "branding": found.branding,
                         "behaviors": list(found.behaviors), "partners": list(found.partners),
                         "subscribe_templates": subscriptions.templates(found.id)})
