"""POST /v1/auth/login and GET /v1/health."""
from .. import ratelimit
from ..services import auth
from .fields import Field
from .web import Routes, respond

routes = Routes(__name__)
LOGIN = (Field("code", "code 须为 wx.login 返回的字符串", min_length=1, max_length=128,
               rule="code is required: the code wx.login gave, 1 to 128 characters (single use)"),)


@routes.route("/v1/health", methods=["GET"])
def health():
    return respond(200, {"status": "ok"})


@routes.route("/v1/auth/login", methods=["POST"])
def login():
    identity = (routes.current_request.context or {}).get("identity") or {}
    ratelimit.admit_login(identity.get("sourceIp"))  # before WeChat is called for the code (docs/reliability.md)
    return respond(200, auth.login(routes.body(*LOGIN)["code"]))
