"""POST /v1/auth/login and GET /v1/health."""
from .. import ratelimit
from ..services import auth
from .fields import Field
from .platform import request_platform
from .web import Routes, respond

routes = Routes(__name__)
LOGIN = (Field("code", "code 须为 wx.login 返回的字符串", min_length=1, max_length=128,
               rule="code is required: the code wx.login gave, 1 to 128 characters (single use)"),
         Field("platform", "platform 须为平台编号", required=False,
               rule="platform, when given, is the id of the platform whose mini program called wx.login "
                    "(it wins over the X-Platform header)"))


@routes.route("/v1/health", methods=["GET"])
def health():
    return respond(200, {"status": "ok"})


@routes.route("/v1/auth/login", methods=["POST"])
def login():
    identity = (routes.current_request.context or {}).get("identity") or {}
    ratelimit.admit_login(identity.get("sourceIp"))  # before WeChat is called for the code (docs/reliability.md)
    body = routes.body(*LOGIN)
    platform = body["platform"] if "platform" in body else request_platform(routes.current_request)
    result = auth.login(body["code"], platform)
    return respond(200, {"token": result.token, "expires_in": result.expires_in,
                         "user": {"id": result.user_id, "nickname": result.nickname, "roles": list(result.roles),
                                  "platform": {"id": result.platform_id, "name": result.platform_name}},
                         "new_user": result.new_user})
