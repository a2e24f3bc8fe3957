"""Evidence photos: POST /v1/uploads, a presigned POST to object storage (services/uploads.py)."""
from ..domain import clock
from ..services import uploads
from .fields import NUMBER, Field
from .web import Routes, respond

routes = Routes(__name__)
UPLOAD = (Field("purpose", "用途须为 checkin_evidence"),
          Field("content_type", "照片类型须为 image/jpeg 或 image/png"),
          Field("size", "照片大小须为字节数", types=(NUMBER,)))


@routes.route("/v1/uploads", methods=["POST"])
def create_upload():
    caller = routes.caller()
    body = routes.body(*UPLOAD)
    upload = uploads.issue_upload(caller.user_id, caller.platform, body["purpose"], body["content_type"],
                                  body["size"])
    return respond(201, {"upload_id": upload.upload_id, "url": upload.url, "fields": upload.fields,
                         "expires_at": clock.iso(upload.expires_at)})
