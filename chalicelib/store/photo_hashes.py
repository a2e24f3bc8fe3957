"""The perceptual hashes of every evidence photo ever used, and the uploads used: one table, three kinds of item.

`photo_hashes` — pk `key`:
- `ph#{chunk}#{value}` (chunk 0..3, value 4 hex digits): a bucket of multi-index hashing (domain/evidence.py),
  `hashes` = the string set of the full hashes (16 hex digits) whose chunk `chunk` is `value`. A photo check-in
  ADDs its hash to its 4 buckets in its own transaction. Kept for good (the contract: "by anyone, ever"). No
  user id is stored with a hash.
- `upload#{upload_id}`: the upload served a check-in (`attribute_not_exists`: one upload, one check-in).
- `hash#{hash}`: the exact hash was used (`attribute_not_exists`): two simultaneous check-ins of the same photo
  cannot both pass, whatever the buckets they read said.

A photo check-in reads its 68 probe buckets and the upload's marker together with the account, in ONE
BatchGetItem: the account consistently, this table eventually consistently (ConsistentRead is per table in a
BatchGetItem: the reason the buckets have a table of their own). A bucket written a moment ago may be missed by
that read; the exact-hash marker still refuses an exact copy (docs/capacity.md, "Evidence photos").
"""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model

from ..domain import evidence
from ..errors import AccountDeletedError, NotFoundError
from . import items
from .access import on
from .failures import ConditionFailed, Unavailable, error_code, raise_unavailable
from .models import Account, table_meta
from .tx import Tx, connection

MAX_BATCH_ROUNDS = 4  # UnprocessedKeys read again, at most this many calls in all


class PhotoHash(Model):
    Meta = table_meta("photo_hashes")
    key = UnicodeAttribute(hash_key=True)
    hashes = UnicodeSetAttribute(null=True)  # buckets
    at = UnicodeAttribute(null=True)  # markers: when the upload / the exact hash was used


def upload_key(upload_id: str) -> str:
    return f"upload#{upload_id}"


def exact_key(photo_hash: int) -> str:
    return f"hash#{evidence.hex_of(photo_hash)}"


class PhotoHashes:
    ACCESS = (on(PhotoHash, "BatchGetItem", "PutItem", "UpdateItem"), on(Account, "BatchGetItem", "UpdateItem"))

    def read_with_account(self, user_id: str, photo_hash: int, upload_id: str) -> tuple[Account, set[int], bool]:
        """The account (consistent), the earlier hashes in the photo's probe buckets and whether the upload
        already served a check-in: one BatchGetItem (more only for keys DynamoDB left unprocessed)."""
        photos = PhotoHash.Meta.table_name
        accounts = Account.Meta.table_name
        wanted = {accounts: {"Keys": [{"user_id": {"S": user_id}}], "ConsistentRead": True},
                  photos: {"Keys": [{"key": {"S": key}} for key in
                                    [upload_key(upload_id), *evidence.probe_buckets(photo_hash)]],
                           "ConsistentRead": False}}
        found: dict[str, list[dict]] = {accounts: [], photos: []}
        for _ in range(MAX_BATCH_ROUNDS):
            try:
                answer = connection().client.batch_get_item(RequestItems=wanted)
            except (BotoCoreError, ClientError) as exc:
                raise_unavailable(exc)
            for table, rows in answer.get("Responses", {}).items():
                found[table].extend(rows)
            wanted = answer.get("UnprocessedKeys") or {}
            if not wanted:
                break
        else:
            raise Unavailable()  # DynamoDB kept leaving keys unprocessed: throttled
        if not found[accounts]:
            raise NotFoundError()
        account = Account.from_raw_data(found[accounts][0])
        if account.deleted_at:
            raise AccountDeletedError()
        used = any(row["key"]["S"] == upload_key(upload_id) for row in found[photos])
        known = {int(value, 16) for row in found[photos] for value in row.get("hashes", {}).get("SS", [])}
        return account, known, used

    def stage_upload(self, tx: Tx, label: str, upload_id: str, at: str) -> None:
        """The upload's marker, refused under `label` if the upload already served a check-in."""
        tx.put_new(label, PhotoHash, {"key": upload_key(upload_id), "at": at})

    def stage_hash(self, tx: Tx, label: str, photo_hash: int, at: str) -> None:
        """The exact hash's marker (refused under `label` if it was used) and the hash ADDed to its 4 buckets."""
        tx.put_new(label, PhotoHash, {"key": exact_key(photo_hash), "at": at})
        for index, bucket in enumerate(evidence.own_buckets(photo_hash)):
            tx.update_values(f"{label}:bucket{index}", PhotoHash, items.key(PhotoHash, bucket),
                             add={"hashes": {evidence.hex_of(photo_hash)}})

    def record_refusal(self, user_id: str, before: list | None, after: list) -> None:
        """The account's photo refusals become `after`, provided they are still `before` (one conditioned
        UpdateItem; ConditionFailed when a concurrent refusal changed them: read again and retry). It moves the
        account's `version` too: a posting that read the account before it (the refusal that puts the person
        under review writes the refusals in a posting, services/evidence.py) is refused and reads again, so it
        never writes back refusals without this one."""
        names = {"#r": items.attr_name(Account, "photo_refusals"), "#k": "user_id",
                 "#v": items.attr_name(Account, "version")}
        values = {":after": items.value(Account, "photo_refusals", after), ":one": {"N": "1"}}
        if before is None:
            condition = "attribute_exists(#k) AND attribute_not_exists(#r)"
        else:
            condition = "attribute_exists(#k) AND #r = :before"
            values[":before"] = items.value(Account, "photo_refusals", before)
        try:
            connection().client.update_item(
                TableName=Account.Meta.table_name, Key=items.key(Account, user_id),
                UpdateExpression="SET #r = :after ADD #v :one", ConditionExpression=condition,
                ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConditionFailed({"refusals": None}) from exc
            raise_unavailable(exc)
        except BotoCoreError as exc:
            raise_unavailable(exc)

    def refusals_of(self, user_id: str) -> list | None:
        """The account's photo refusals, read consistently (after a lost race of record_refusal)."""
        try:
            found = connection().client.get_item(TableName=Account.Meta.table_name, Key=items.key(Account, user_id),
                                                 ConsistentRead=True, ProjectionExpression="photo_refusals")
        except (BotoCoreError, ClientError) as exc:
            raise_unavailable(exc)
        raw = found.get("Item", {}).get("photo_refusals")
        return Account.photo_refusals.deserialize(raw["S"]) if raw else None
