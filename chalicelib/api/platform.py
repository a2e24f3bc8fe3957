"""GET /v1/platform, and which platform a request is for (shared/contract/platforms.md, "API").

The platform of a request: the token's (`plt`) on a request carrying a valid token, else the `X-Platform`
header, else `default`. `platform_edge` (an HTTP middleware, app.py) decides it before any route:
- an `X-Platform` that names no platform: 404 UNKNOWN_PLATFORM (`default` and a missing header read nothing;
  another id is looked up in the catalog's `platform` partition, cached a minute per container);
- a valid token with an `X-Platform` of another platform: 403 PLATFORM_MISMATCH;
- a platform other than `default` on a route that does not serve platforms yet (not in SERVES_PLATFORMS):
  404 NOT_FOUND (接口不存在), as a missing route. Those routes still read and write the `default` platform's
  catalog, so a user of another platform must not reach them until they are isolated (docs/platforms.md,
  "Plan"); `default`'s requests pass through untouched.
"""
from __future__ import annotations

from ..domain.platforms import DEFAULT
from ..errors import AppError, PlatformMismatchError, RouteNotFoundError
from ..services import platforms, tokens
from ..store.failures import of_database
from .web import Routes, error_response, respond

routes = Routes(__name__)
HEADER = "x-platform"
# The routes that serve every platform; each other route is `default`'s alone until it is made per platform.
SERVES_PLATFORMS = frozenset({("GET", "/v1/health"), ("POST", "/v1/auth/login"), ("GET", "/v1/platform"),
                              ("GET", "/v1/me"), ("POST", "/v1/checkins"), ("POST", "/v1/werun/sync"),
                              ("GET", "/v1/partners"), ("PUT", "/v1/partners/{partner_id}/consent"),
                              ("DELETE", "/v1/partners/{partner_id}/consent"),
                              ("POST", "/v1/partners/{partner_id}/sync"), ("GET", "/v1/stats"),
                              ("GET", "/v1/behaviors"), ("GET", "/v1/me/ledger"), ("GET", "/v1/me/summary"),
                              ("PATCH", "/v1/me"), ("GET", "/v1/me/export"), ("DELETE", "/v1/me"),
                              # the marketplace, merchants' staff and collection points (docs/platforms.md)
                              ("GET", "/v1/market/goods"), ("POST", "/v1/market/goods/{goods_id}/redeem"),
                              ("GET", "/v1/me/redemptions"), ("GET", "/v1/me/redemptions/{redemption_id}"),
                              ("POST", "/v1/me/redemptions/{redemption_id}/cancel"), ("GET", "/v1/me/member-code"),
                              ("GET", "/v1/merchant/redemptions"), ("POST", "/v1/merchant/verify"),
                              ("POST", "/v1/operator/credit"),
                              # trees and organizations
                              ("GET", "/v1/trees"), ("POST", "/v1/trees/{tree_id}/adopt"), ("GET", "/v1/me/trees"),
                              ("GET", "/v1/orgs"), ("GET", "/v1/orgs/{org_id}"), ("POST", "/v1/orgs/{org_id}/join"),
                              ("POST", "/v1/partners/{partner_id}/link-code"),
                              ("POST", "/v1/open/links")})  # a partner's: the link code names the platform


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
        platform = resolve(event)
        route = (event.method, (event.context or {}).get("resourcePath"))
        if platform != DEFAULT and route not in SERVES_PLATFORMS:
            raise RouteNotFoundError()
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
                         "behaviors": list(found.behaviors), "partners": list(found.partners)})
