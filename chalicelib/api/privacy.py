"""The caller's rights over their data: export everything (GET /v1/me/export), delete the account (DELETE /v1/me)."""
from .. import bootstrap
from ..services import erasure, export, quotas
from . import shapes_export
from .fields import Field
from .web import Routes, respond

routes = Routes(__name__)
CONFIRM_MESSAGE = "请确认注销：confirm 须为 \"DELETE\""
DELETE_ME = (Field("confirm", CONFIRM_MESSAGE, rule='confirm is required: the string "DELETE"'),)


@routes.route("/v1/me/export", methods=["GET"])
def export_me():
    caller = routes.caller()
    quotas.export(caller.user_id)  # EXPORTS_PER_HOUR per user, across containers: 429 RATE_LIMITED beyond
    held = export.export(caller.user_id, bootstrap.held_reads())
    return respond(200, shapes_export.export_json(held, caller))


@routes.route("/v1/me", methods=["DELETE"])
def delete_me():
    caller = routes.caller(deleted_ok=True)  # asked again after the deletion: answered the same
    if routes.body(*DELETE_ME)["confirm"] != "DELETE":
        raise DELETE_ME[0].refuse("value")
    erasure.delete_account(caller.user_id, channel="user")
    return respond(200, {"deleted": True})
