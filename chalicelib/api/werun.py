"""WeChat Sports steps: the body's base64 fields -> SyncWeRun -> services/werun.sync_steps -> 200 and its JSON."""
import base64
import binascii

from .. import bootstrap
from ..domain.commands_partners import SyncWeRun
from ..errors import ValidationError
from ..services import werun
from . import shapes_partners
from .fields import Field
from .web import Routes, respond

routes = Routes(__name__)
MAX_FIELD = 16384
WERUN = (Field("encrypted_data", "encrypted_data 须为 wx.getWeRunData 返回的字符串", min_length=1,
               rule="encrypted_data is required: encryptedData of wx.getWeRunData (base64)"),
         Field("iv", "iv 须为 wx.getWeRunData 返回的字符串", min_length=1,
               rule="iv is required: iv of wx.getWeRunData (base64 of 16 bytes)"))


@routes.route("/v1/werun/sync", methods=["POST"])
def sync_werun():
    caller = routes.caller()
    body = routes.body(*WERUN)
    encrypted, iv = _decoded(body, "encrypted_data"), _decoded(body, "iv")
    if len(iv) != 16:
        raise ValidationError("iv 无效", field="iv")
    result = werun.sync_steps(SyncWeRun(caller.user_id, encrypted, iv, caller.platform), bootstrap.partner_uow())
    return respond(200, shapes_partners.werun_json(result))


def _decoded(body: dict, name: str) -> bytes:
    raw = body.get(name)
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_FIELD:
        raise ValidationError(f"{name} 须为 wx.getWeRunData 返回的字符串", field=name,
                              reason="length" if isinstance(raw, str) else "type", min_length=1,
                              max_length=MAX_FIELD, rule=f"{name}: base64 text of wx.getWeRunData, at most {MAX_FIELD} "
                                                         "characters")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{name} 不是有效的 base64", field=name, reason="pattern",
                              rule=f"{name}: standard base64 (A-Z a-z 0-9 + / and = padding) of wx.getWeRunData",
                              ) from None
