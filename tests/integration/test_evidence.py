"""Evidence photos (contract risk.md, "Evidence photos" and rule 3 `photo_reuse`): POST /v1/uploads gives a
presigned POST whose policy the object storage enforces, and a behaviour whose evidence is a photo takes one
upload, once, refusing a photo near one already used by anyone (409 EVIDENCE_REUSED)."""
from __future__ import annotations

import io
from datetime import date

import pytest

from chalicelib.domain import evidence
from chalicelib.domain.photo_hash import dhash
from chalicelib.domain.risk import RiskSettings
from chalicelib.store import evidence_objects
from chalicelib.store.models import Account
from chalicelib.store.photo_hashes import PhotoHash, exact_key
from tests.support import photos
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.days import at
from tests.support.persons import login_on
from tests.support.reconcile import reconciled

MIB5 = 5 * 1024 * 1024


@pytest.fixture(autouse=True)
def photo_behaviours(database):
    with photos.photo_required(*photos.PHOTO_BEHAVIORS):
        yield


def me(client, user):
    return call(client, "GET", "/v1/me", token=user["token"])[1]


def altered(data: bytes, size: int, quality: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((size, size)).save(out, "JPEG", quality=quality)
    return out.getvalue()


# --- the upload policy, enforced by the object storage itself ---------------------------------------------------

def test_upload_is_a_presigned_post_valid_ten_minutes_for_one_key(client, user):
    status, body = photos.request_upload(client, user)
    assert status == 201
    assert set(body) == {"upload_id", "url", "fields", "expires_at"}
    assert body["fields"]["key"] == evidence.object_key("default", user["id"], body["upload_id"])
    issued = evidence.issued_at(body["upload_id"])
    from chalicelib.domain import clock

    assert (clock.parse_iso(body["expires_at"]) - issued).total_seconds() == pytest.approx(600, abs=1)


def test_policy_refuses_a_6_mb_file(client, user):
    upload = photos.request_upload(client, user)[1]
    sent = photos.post_form(upload, photos.photo() + b"\0" * (6 * 1024 * 1024))
    assert sent.status_code == 400 and "<Code>EntityTooLarge</Code>" in sent.text


def test_policy_refuses_a_text_file(client, user):
    upload = photos.request_upload(client, user)[1]
    sent = photos.post_form(upload, b"not a photo", "text/plain", **{"Content-Type": "text/plain"})
    assert sent.status_code == 403 and "<Code>AccessDenied</Code>" in sent.text


def test_policy_refuses_another_key(client, user):
    upload = photos.request_upload(client, user)[1]
    sent = photos.post_form(upload, photos.photo(), key=upload["fields"]["key"] + "x")
    assert sent.status_code == 403 and "Policy Condition failed" in sent.text


def test_a_policy_changed_by_the_client_is_refused(client, user):
    import base64
    import json

    upload = photos.request_upload(client, user)[1]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] ==
                                                                      "content-length-range")]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    sent = photos.post_form(upload, photos.photo() + b"\0" * (6 * 1024 * 1024), policy=forged)
    assert sent.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in sent.text


def test_the_storage_refuses_a_request_signed_with_another_secret(stack):
    import boto3
    from botocore.config import Config

    from chalicelib.settings import get_settings

    wrong = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="not-the-secret").client(
        "s3", region_name="ap-northeast-1", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        wrong.get_object(Bucket=get_settings().evidence_bucket, Key="evidence/x")
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_a_5_mib_jpeg_passes_and_checks_in(client, user):
    data = photos.photo()
    data += b"\0" * (MIB5 - len(data))  # bytes after the JPEG's end: still the same decodable JPEG
    assert len(data) == MIB5
    status, body = photos.checkin(client, user, data=data)
    assert status == 201, body


def test_an_expired_policy_is_refused(client, user, monkeypatch):
    from chalicelib.services import uploads

    monkeypatch.setattr(uploads, "VALID_SECONDS", -1)
    upload = photos.request_upload(client, user)[1]
    sent = photos.post_form(upload, photos.photo())
    assert sent.status_code == 403 and "Policy expired" in sent.text


@pytest.mark.parametrize("body, field", [
    ({"purpose": "avatar", "content_type": "image/jpeg", "size": 10}, "purpose"),
    ({"purpose": "checkin_evidence", "content_type": "text/plain", "size": 10}, "content_type"),
    ({"purpose": "checkin_evidence", "content_type": "image/png", "size": MIB5 + 1}, "size"),
    ({"purpose": "checkin_evidence", "content_type": "image/png", "size": 0}, "size"),
])
def test_upload_request_outside_the_rules_is_400(client, user, body, field):
    status, answer = call(client, "POST", "/v1/uploads", body, token=user["token"])
    assert (status, answer["error"]["code"], answer["error"]["details"]["field"]) == (400, "VALIDATION_ERROR", field)


# --- check-ins of a photo behaviour ---------------------------------------------------------------------------

def test_checkin_without_evidence_is_400(client, user):
    for extra in ({}, {"evidence": {}}, {"evidence": {"upload_id": 5}}):
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                             **extra}, token=user["token"])
        assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR",
                                                                                        "evidence")
    assert me(client, user)["points"] == 0


def test_another_persons_upload_is_not_found(client, user, openid):
    other = login(client, openid + "-other")
    upload_id = photos.upload(client, other)
    status, body = photos.checkin(client, user, upload_id=upload_id)
    assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")
    assert me(client, user)["points"] == 0


def test_unknown_or_stale_upload_id_is_not_found(client, user):
    for upload_id in ("0" * 26, "not-an-upload-id"):
        status, body = photos.checkin(client, user, upload_id=upload_id)
        assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")


def test_text_file_sent_by_a_broken_client_is_not_found(client, user):
    upload = photos.request_upload(client, user)[1]
    assert photos.post_form(upload, b"hello, not a jpeg").status_code == 204  # declared image/jpeg: S3 takes it
    status, body = photos.checkin(client, user, upload_id=upload["upload_id"])
    assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")
    assert me(client, user)["points"] == 0


def test_photo_checkin_awards_and_records_the_hash(client, user):
    data = photos.photo()
    status, body = photos.checkin(client, user, data=data)
    assert status == 201, body
    assert (body["entry"]["points"], body["entry"]["carbon_g"]) == (5, 144.0)
    photo_hash = dhash(data)
    assert PhotoHash.get(exact_key(photo_hash), consistent_read=True).at
    for bucket in evidence.own_buckets(photo_hash):
        assert evidence.hex_of(photo_hash) in PhotoHash.get(bucket, consistent_read=True).hashes
    assert reconciled(user)["clean"]


def test_png_photo_checks_in(client, user):
    status, body = photos.checkin(client, user, data=photos.photo(image_format="PNG"))
    assert status == 201, body


def test_same_photo_by_another_person_another_day_is_refused(client, user, openid):
    data = photos.photo()
    with at(date(2026, 9, 14)):
        assert photos.checkin(client, user, data=data)[0] == 201
    other = login(client, openid + "-b")
    status, body = photos.checkin(client, other, data=data)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")
    assert me(client, other)["points"] == 0
    assert reconciled(user, other)["clean"]


def test_slightly_altered_copies_are_refused(client, user, openid):
    seed = photos.fresh_seed()
    data = photos.photo(seed)
    assert photos.checkin(client, user, data=data)[0] == 201
    other = login(client, openid + "-c")
    copies = [altered(data, 300, 40), altered(data, 640, 75), *photos.near_copies(seed, 2)]
    distances = [evidence.distance(dhash(data), dhash(copy)) for copy in copies]
    assert all(d <= RiskSettings().photo_distance for d in distances) and max(distances) >= 1  # not only exact copies
    for copy in copies:
        status, body = photos.checkin(client, other, data=copy)
        assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")
    assert me(client, other)["points"] == 0


def test_a_copy_whose_earlier_photo_the_read_missed_is_refused_by_the_exact_hash(client, user, openid,
                                                                                monkeypatch):
    """Two check-ins at the same moment each read the buckets before the other wrote: the exact copy is still
    refused by the transaction (the hash's marker); a near copy at that very moment is what the race leaves
    (docs/capacity.md)."""
    from chalicelib.store.photo_hashes import PhotoHashes

    seed = photos.fresh_seed()
    data = photos.photo(seed)
    assert photos.checkin(client, user, data=data)[0] == 201
    read = PhotoHashes.read_with_account
    monkeypatch.setattr(PhotoHashes, "read_with_account",
                        lambda self, *args: (lambda found: (found[0], set(), found[2]))(read(self, *args)))
    other = login(client, openid + "-race")
    status, body = photos.checkin(client, other, data=data)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")
    assert len(Account.get(other["id"], consistent_read=True).photo_refusals) == 1
    assert photos.checkin(client, other, data=photos.near_copies(seed, 1)[0])[0] == 201


def test_a_different_photo_passes(client, user):
    assert photos.checkin(client, user)[0] == 201
    assert photos.checkin(client, user)[0] == 201
    assert me(client, user)["points"] == 10


def test_an_upload_serves_one_checkin(client, user):
    upload_id = photos.upload(client, user)
    assert photos.checkin(client, user, upload_id=upload_id)[0] == 201
    status, body = photos.checkin(client, user, upload_id=upload_id)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")
    assert me(client, user)["points"] == 5
    assert not Account.get(user["id"], consistent_read=True).photo_refusals  # a reused upload is not a photo


def test_retry_of_a_photo_checkin_returns_the_first_result(client, user):
    upload_id, rid = photos.upload(client, user), request_id()
    first = photos.checkin(client, user, upload_id=upload_id, rid=rid)
    assert first[0] == 201
    assert photos.checkin(client, user, upload_id=upload_id, rid=rid) == first
    assert me(client, user)["points"] == 5


def test_retry_after_the_photo_is_gone_still_returns_the_first_result(client, user):
    upload_id, rid = photos.upload(client, user), request_id()
    first = photos.checkin(client, user, upload_id=upload_id, rid=rid)
    assert first[0] == 201
    evidence_objects.client().delete_object(Bucket=evidence_objects.get_settings().evidence_bucket,
                                            Key=evidence.object_key("default", user["id"], upload_id))
    assert photos.checkin(client, user, upload_id=upload_id, rid=rid) == first
    status, body = photos.checkin(client, user, upload_id=upload_id)  # another request: the photo is gone
    assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")


def test_user_of_another_platform_checks_in_with_a_photo(client, openid):
    user = login_on(client, openid)
    data = photos.photo()
    status, body = photos.checkin(client, user, data=data)
    assert status == 201 and body["entry"]["points"] == 3  # the platform's own points for clean_plate
    status, body = photos.checkin(client, login(client, openid + "-d"), data=data)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")  # across platforms too


def test_an_upload_of_the_persons_user_on_another_platform_is_not_found(client, openid):
    on_demo = login_on(client, openid)
    upload_id = photos.upload(client, on_demo)
    status, body = photos.checkin(client, login(client, openid), upload_id=upload_id)
    assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")  # the same person, another platform's user
    assert photos.checkin(client, on_demo, upload_id=upload_id)[0] == 201


def test_refusals_are_recorded_on_the_account_once_per_request(client, user, openid):
    seed = photos.fresh_seed()
    assert photos.checkin(client, user, data=photos.photo(seed))[0] == 201
    farmer = login(client, openid + "-e")
    rids = [request_id() for _ in range(3)]
    for rid, copy in zip(rids, photos.near_copies(seed, 3), strict=True):
        assert photos.checkin(client, farmer, data=copy, rid=rid)[0] == 409
    refusals = Account.get(farmer["id"], consistent_read=True).photo_refusals
    assert [item[1] for item in refusals] == rids
    from chalicelib.domain import clock

    assert evidence.photo_refusals_reached(refusals, clock.business_day(clock.now()), RiskSettings().photo_refusals)
    # a retry of a refused request is not another refusal (the review it led to: test_photo_reuse_rule.py)
    assert photos.checkin(client, farmer, data=photos.photo(seed), rid=rids[0])[0] == 409
    assert len(Account.get(farmer["id"], consistent_read=True).photo_refusals) == 3


# --- what a check-in costs ------------------------------------------------------------------------------------

class S3Calls:
    def __init__(self) -> None:
        self.operations: list[str] = []

    def _count(self, model, **kwargs) -> None:
        self.operations.append(model.name)

    def __enter__(self):
        evidence_objects.client().meta.events.register("after-call.s3", self._count)
        return self

    def __exit__(self, *exc) -> None:
        evidence_objects.client().meta.events.unregister("after-call.s3", self._count)


def test_photo_checkin_is_one_get_object_one_batch_read_one_transaction(client, user):
    upload_id = photos.upload(client, user)
    with S3Calls() as s3, DynamoDBCalls() as calls:
        status, _ = photos.checkin(client, user, upload_id=upload_id)
    assert status == 201
    assert s3.operations == ["GetObject"]
    assert sorted(calls.operations) == ["BatchGetItem", "TransactWriteItems"]


def test_refused_photo_checkin_reads_and_remembers_the_refusal_only(client, user, openid):
    data = photos.photo()
    assert photos.checkin(client, user, data=data)[0] == 201
    other = login(client, openid + "-calls")
    upload_id = photos.upload(client, other, data)
    with S3Calls() as s3, DynamoDBCalls() as calls:
        status, _ = photos.checkin(client, other, upload_id=upload_id)
    assert status == 409
    assert s3.operations == ["GetObject"]
    # the batch read; the request's idempotency record (a retry of a success gets its answer); the refusal
    assert calls.operations == ["BatchGetItem", "GetItem", "UpdateItem"]


def test_checkin_without_photo_makes_no_object_call(client, user):
    with S3Calls() as s3, DynamoDBCalls() as calls:
        status, _ = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                         token=user["token"])
    assert status == 201
    assert s3.operations == [] and sorted(calls.operations) == ["GetItem", "TransactWriteItems"]


def test_upload_makes_no_call_at_all(client, user):
    with S3Calls() as s3, DynamoDBCalls() as calls:
        assert photos.request_upload(client, user)[0] == 201
    assert s3.operations == [] and calls.operations == []


# --- the bucket -----------------------------------------------------------------------------------------------

def test_init_db_gives_the_bucket_its_180_day_lifecycle_rule(database):
    from admin.__main__ import main

    assert main(["init-db"]) == 0
    assert evidence_objects.lifecycle_days() == 180


# --- privacy --------------------------------------------------------------------------------------------------

def test_the_export_shows_the_checkins_photo_evidence(client, user):
    data = photos.photo()
    upload_id = photos.upload(client, user, data)
    assert photos.checkin(client, user, upload_id=upload_id)[0] == 201
    status, body = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200, body
    shown = [entry for entry in body["ledger"] if entry["behavior"] == "clean_plate"]
    assert [entry["inputs"]["evidence"] for entry in shown] == [
        {"upload_id": upload_id, "photo_hash": evidence.hex_of(dhash(data))}]


def test_deleting_the_account_deletes_its_photos_and_keeps_their_hashes(client, user, openid):
    data = photos.photo()
    upload_ids = [photos.upload(client, user, data), photos.upload(client, user)]
    assert photos.checkin(client, user, upload_id=upload_ids[0])[0] == 201
    other = login(client, openid + "-keep")
    kept = photos.upload(client, other)
    status, body = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=user["token"])
    assert status == 200, body
    for upload_id in upload_ids:
        assert evidence_objects.read(evidence.object_key("default", user["id"], upload_id), MIB5) is None
    assert evidence_objects.read(evidence.object_key("default", other["id"], kept), MIB5) is not None
    assert PhotoHash.get(exact_key(dhash(data)), consistent_read=True).at  # the hash stays: "by anyone, ever"
    status, body = photos.checkin(client, other, data=data)
    assert (status, body["error"]["code"]) == (409, "EVIDENCE_REUSED")
