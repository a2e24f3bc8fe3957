"""GreenSprout's API: registers the blueprints and maps Chalice's own rejections to the contract.

Only app.py and chalicelib/ are deployed; nothing here imports admin/, infra/ or tests.
"""
import json
import logging

from chalice import Chalice, Response

from chalicelib.api import auth, checkins, me
from chalicelib.errors import (
    AppError,
    InternalError,
    MethodNotAllowedError,
    RouteNotFoundError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from chalicelib.settings import get_settings

get_settings()  # refuse to start without a valid JWT_SECRET and settings

app = Chalice(app_name="greensprout")
app.log.setLevel(logging.INFO)
app.api.cors = False
for blueprint in (auth.routes, me.routes, checkins.routes):
    app.register_blueprint(blueprint)

_CHALICE_ERRORS: dict[int, type[AppError]] = {
    400: ValidationError, 403: RouteNotFoundError, 404: RouteNotFoundError, 405: MethodNotAllowedError,
    415: UnsupportedMediaTypeError,
}


@app.middleware("http")
def contract_errors(event, get_response):
    """Chalice answers some requests itself (wrong method, unsupported media type, its own 500):
    give those the contract's error shape too."""
    response = get_response(event)
    if response.status_code < 400 or _is_contract_error(response.body):
        return response
    error = _CHALICE_ERRORS.get(response.status_code, InternalError)()
    headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
    headers["Content-Type"] = "application/json; charset=utf-8"
    return Response(body=json.dumps(error.body(), ensure_ascii=False), status_code=error.status, headers=headers)


def _is_contract_error(body) -> bool:
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]
