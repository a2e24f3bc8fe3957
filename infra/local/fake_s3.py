"""A fake S3 for `make run` and the tests: the operations the evidence photos use, over real HTTP, path-style.

Written from AWS's S3 documentation ("Authenticating Requests: Browser-Based Uploads Using POST (AWS Signature
Version 4)", "Creating a POST Policy", "Signature Calculations for the Authorization Header", "Error Responses"),
for what this code and its tests do:
- POST /{bucket} (a browser-based upload): the policy's SigV4 signature, its expiration, every condition
  (exact match, `eq`, `starts-with`, `content-length-range`) and S3's rule that every form field but `file`,
  `policy`, `x-amz-signature` and `x-ignore-*` is covered by a condition. Refusals answer as S3 does: 403
  AccessDenied "Invalid according to Policy: ..." (expired, condition failed, extra input fields), 403
  SignatureDoesNotMatch, 400 EntityTooLarge / EntityTooSmall for a size outside `content-length-range`.
  Success: 204, or `success_action_status`.
- GET / HEAD / PUT / DELETE /{bucket}/{key}; PUT (CreateBucket) and HEAD (HeadBucket) /{bucket}; GET /{bucket}
  with `list-type=2` and `prefix` (ListObjectsV2, the erasure's list of a user's own prefix);
  PUT / GET /{bucket}?lifecycle (the lifecycle configuration is kept as sent and returned as it is).
  Every one of them must carry a valid SigV4 Authorization header (the stack's one key pair).
What it does not do: expire objects by the lifecycle rule (it only keeps it), versions, ACLs, multipart uploads,
virtual-hosted addressing. Objects live in memory for the life of the process.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from infra.local.fake_http import FakeHTTPServer, Request, Response

UNSIGNED_FIELDS = ("file", "policy", "x-amz-signature")
STARTS_WITH_FIELDS = ("key", "acl", "content-type", "cache-control", "content-disposition", "content-encoding",
                      "expires", "success_action_redirect", "redirect")


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message><RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId>"
                "<HostId>fake-s3</HostId></Error>")
        return Response(body, status=self.status, content_type="application/xml")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, day: str, region: str, service: str = "s3") -> bytes:
    return _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), day), region), service), "aws4_request")


class FakeS3(FakeHTTPServer):
    name = "fake S3"

    def __init__(self, access_key: str, secret_key: str, port: int = 0) -> None:
        super().__init__(port)
        self.access_key, self.secret_key = access_key, secret_key
        self._lock = threading.Lock()
        self.buckets: dict[str, dict[str, tuple[bytes, str, str]]] = {}  # bucket -> key -> (data, type, modified)
        self.lifecycles: dict[str, bytes] = {}

    # --- dispatch -------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except S3Error as error:
            return error.response()
        except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError) as exc:  # a malformed request
            return S3Error(400, "InvalidRequest", f"malformed request: {exc!r}").response()

    def _handle(self, request: Request) -> Response:
        bucket, _, key = request.path.lstrip("/").partition("/")
        bucket, key = unquote(bucket), unquote(key)
        if not bucket:
            raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if request.method == "POST" and not key and "multipart/form-data" in request.headers.get("content-type", ""):
            return self._post_object(bucket, request)
        self._authenticate(request)
        if not key:
            return self._bucket_operation(bucket, request)
        return self._object_operation(bucket, key, request)

    def _objects(self, bucket: str) -> dict[str, tuple[bytes, str, str]]:
        if bucket not in self.buckets:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist")
        return self.buckets[bucket]

    def _bucket_operation(self, bucket: str, request: Request) -> Response:
        with self._lock:
            if "lifecycle" in {item.partition("=")[0] for item in request.raw_query.split("&")}:
                self._objects(bucket)
                if request.method == "PUT":
                    self.lifecycles[bucket] = request.body
                    return Response(b"", status=200)
                if bucket not in self.lifecycles:
                    raise S3Error(404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
                return Response(self.lifecycles[bucket], content_type="application/xml")
            if request.method == "PUT":
                if bucket in self.buckets:
                    raise S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named "
                                  "bucket succeeded and you already own it.")
                self.buckets[bucket] = {}
                return Response(b"", status=200, headers={"Location": f"/{bucket}"})
            if request.method == "HEAD":
                self._objects(bucket)
                return Response(b"", status=200)
            if request.method == "GET" and request.query.get("list-type") == "2":
                return self._list(bucket, request.query.get("prefix", ""))
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def _list(self, bucket: str, prefix: str) -> Response:
        keys = sorted(k for k in self._objects(bucket) if k.startswith(prefix))[:1000]
        contents = "".join(f"<Contents><Key>{escape(k)}</Key><Size>{len(self.buckets[bucket][k][0])}</Size>"
                           f"<LastModified>{self.buckets[bucket][k][2]}</LastModified></Contents>" for k in keys)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
                f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>{escape(bucket)}</Name>'
                f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
                f"<IsTruncated>false</IsTruncated>{contents}</ListBucketResult>")
        return Response(body, content_type="application/xml")

    def _object_operation(self, bucket: str, key: str, request: Request) -> Response:
        with self._lock:
            objects = self._objects(bucket)
            if request.method == "PUT":
                objects[key] = (request.body, request.headers.get("content-type", "binary/octet-stream"), _now())
                return Response(b"", status=200, headers={"ETag": _etag(request.body)})
            if request.method == "DELETE":
                objects.pop(key, None)
                return Response(b"", status=204)
            if request.method in ("GET", "HEAD"):
                if key not in objects:
                    raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
                data, content_type, modified = objects[key]
                stamp = datetime.fromisoformat(modified.replace("Z", "+00:00")).strftime("%a, %d %b %Y %H:%M:%S GMT")
                return Response(data, content_type=content_type, headers={
                    "ETag": _etag(data), "Last-Modified": stamp, "Content-Length": str(len(data))})
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    # --- SigV4, Authorization header ---------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header.startswith("AWS4-HMAC-SHA256 "):
            raise S3Error(403, "AccessDenied", "Access Denied")
        parts = dict(part.strip().split("=", 1) for part in header[len("AWS4-HMAC-SHA256 "):].split(","))
        access_key, day, region, service, _ = parts["Credential"].split("/")
        if access_key != self.access_key:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
                          "records.")
        signed = parts["SignedHeaders"].split(";")
        canonical = "\n".join([
            request.method, quote(request.path, safe="/~"), _canonical_query(request.raw_query),
            "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed),
            parts["SignedHeaders"], request.headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", request.headers.get("x-amz-date", ""),
                             f"{day}/{region}/{service}/aws4_request", hashlib.sha256(canonical.encode()).hexdigest()])
        expected = hmac.new(signing_key(self.secret_key, day, region, service), to_sign.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["Signature"]):
            raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                          "signature you provided. Check your key and signing method.")

    # --- POST object (browser-based upload) --------------------------------------------------------------
    def _post_object(self, bucket: str, request: Request) -> Response:
        fields, file_data, file_type = _form(request)
        lowered = {name.lower(): value for name, value in fields.items()}
        if "policy" not in lowered or "x-amz-signature" not in lowered:
            raise S3Error(403, "AccessDenied", "Access Denied")
        access_key, day, region, service, _ = lowered.get("x-amz-credential", "////").split("/")
        if access_key != self.access_key:
            raise S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
                          "records.")
        expected = hmac.new(signing_key(self.secret_key, day, region, service), lowered["policy"].encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, lowered["x-amz-signature"]):
            raise S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                          "signature you provided. Check your key and signing method.")
        try:
            policy = json.loads(base64.b64decode(lowered["policy"]))
        except ValueError:
            raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        if expiration <= datetime.now(UTC):
            raise S3Error(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        with self._lock:
            self._objects(bucket)
        values = {**lowered, "bucket": bucket}
        covered = _check_conditions(policy.get("conditions", []), values, len(file_data))
        extra = [name for name in lowered if name not in covered and name not in UNSIGNED_FIELDS
                 and not name.startswith("x-ignore-")]
        if extra:
            raise S3Error(403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}")
        if "key" not in lowered:
            raise S3Error(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
        content_type = lowered.get("content-type") or file_type or "binary/octet-stream"
        with self._lock:
            self.buckets[bucket][lowered["key"]] = (file_data, content_type, _now())
        status = int(lowered.get("success_action_status") or 204)
        return Response(b"", status=status if status in (200, 201, 204) else 204,
                        headers={"ETag": _etag(file_data), "Location": f"/{bucket}/{quote(lowered['key'])}"})


def _check_conditions(conditions: list, values: dict[str, str], size: int) -> set[str]:
    """The fields the conditions cover; S3Error for the first condition the form breaks."""
    covered: set[str] = set()
    for condition in conditions:
        failed = S3Error(403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: "
                         + json.dumps(condition, separators=(", ", ": ")))
        if isinstance(condition, dict):
            ((name, expected),) = condition.items()
            name = name.lower()
            covered.add(name)
            if values.get(name) != expected:
                raise failed
            continue
        operator = str(condition[0]).lower()
        if operator == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                raise S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            if size < low:
                raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        if operator == "eq" and values.get(name) != condition[2]:
            raise failed
        if operator == "starts-with" and (name not in STARTS_WITH_FIELDS and not name.startswith("x-amz-meta-")
                                          or not values.get(name, "").startswith(condition[2])):
            raise failed
        if operator not in ("eq", "starts-with"):
            raise failed
    return covered


def _form(request: Request) -> tuple[dict[str, str], bytes, str]:
    """The form's fields (up to `file`, which S3 takes as the last), the file's bytes and its part's type."""
    content_type = request.headers.get("content-type", "")
    boundary = content_type.split("boundary=", 1)[-1].split(";")[0].strip().strip('"').encode()
    fields: dict[str, str] = {}
    for part in request.body.split(b"--" + boundary)[1:-1]:
        head, _, data = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        data = data[:-2] if data.endswith(b"\r\n") else data
        headers = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip().decode()
                   for line in head.split(b"\r\n") if b":" in line}
        disposition = headers.get(b"content-disposition", "")
        name = _parameter(disposition, "name")
        if name.lower() == "file":
            return fields, data, headers.get(b"content-type", "")
        fields[name] = data.decode()
    raise S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.")


def _parameter(disposition: str, name: str) -> str:
    for item in disposition.split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value.strip('"')
    return ""


def _canonical_query(raw: str) -> str:
    pairs = []
    for item in filter(None, raw.split("&")):
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
