"""WeChat Sports steps."""
from ..lazy import lazy
from .fields import Field
from .web import Routes, respond

werun = lazy("chalicelib.services.werun")

routes = Routes(__name__)
WERUN = (Field("encrypted_data", "encrypted_data 须为 wx.getWeRunData 返回的字符串", min_length=1,
               rule="encrypted_data is required: encryptedData of wx.getWeRunData (base64)"),
         Field("iv", "iv 须为 wx.getWeRunData 返回的字符串", min_length=1,
               rule="iv is required: iv of wx.getWeRunData (base64 of 16 bytes)"))


@routes.route("/v1/werun/sync", methods=["POST"])
def sync_werun():
    caller = routes.caller()
    return respond(200, werun.sync(caller, routes.body(*WERUN)))
