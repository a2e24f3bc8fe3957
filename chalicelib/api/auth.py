"""POST /v1/auth/login and GET /v1/health."""
from .. import ratelimit
from ..lazy import lazy
from .web import Routes, respond

auth = lazy("chalicelib.services.auth")

routes = Routes(__name__)


@routes.route("/v1/health", methods=["GET"])
def health():
    return respond(200, {"status": "ok"})


@routes.route("/v1/auth/login", methods=["POST"])
def login():
    identity = (routes.current_request.context or {}).get("identity") or {}
    ratelimit.admit_login(identity.get("sourceIp"))  # before WeChat is called for the code (docs/reliability.md)
    return respond(200, auth.login(routes.body().get("code")))
