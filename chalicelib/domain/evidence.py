"""Evidence photos, as pure rules: where an upload lives, how long it serves, and which earlier photos are near.

- An upload is named by `upload_id`, a sortable id (domain/ids.py) whose first 10 characters are its issue time
  in milliseconds: "serves one check-in within 24 hours" is checked from the id alone, with no upload item.
- Its object key is derived from the caller and the id, `evidence/{platform}/{user_id}/{upload_id}` (a user id is
  a random `u_...`, never an openid), so another person's upload_id names a key that does not exist: a 404 like a
  missing photo.
- A photo's perceptual hash is 64 bits (domain/photo_hash.py). Two photos are "the same" within a Hamming
  distance of the catalog's `risk.photo_distance` (contract rule 3 `photo_reuse`, default 6; domain/risk.py
  RiskSettings, the one place the thresholds live). Multi-index hashing finds every earlier hash within that
  distance without a scan: the hash is cut into 4 chunks of 16 bits; two hashes within distance 7 differ in at
  most 1 bit on at least one chunk (pigeonhole: 4 chunks with 2 or more differing bits each is 8 > 7). So
  reading, for each chunk, the bucket of its value and of its 16 one-bit neighbours (68 buckets) finds every
  candidate, which is then compared by full distance. MAX_DISTANCE (7) is therefore the largest distance the
  catalog may set (domain/risk.py refuses more).
- A refused photo is remembered on the account (`[ISO time, request_id]`, the business days of the last 30,
  domain/risk.py PHOTO_REFUSAL_WINDOW); the catalog's `risk.photo_refusals` of them (default 3) put the person
  under review (services/evidence.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from . import clock, ids
from .risk import PHOTO_REFUSAL_WINDOW

UPLOAD_SERVES = timedelta(hours=24)
MAX_BYTES = 5 * 1024 * 1024  # 5 MiB: the upload policy's content-length-range, and the largest object read
CONTENT_TYPES = ("image/jpeg", "image/png")
PURPOSE = "checkin_evidence"
PHOTO = "photo"  # a behaviour's `evidence` naming it requires {"upload_id"}
CHUNKS, CHUNK_BITS = 4, 16
MAX_DISTANCE = 2 * CHUNKS - 1  # the largest distance the 68 probe buckets are sure to find (module docstring)


def object_key(platform: str, user_id: str, upload_id: str) -> str:
    return f"evidence/{platform}/{user_id}/{upload_id}"


def user_prefix(platform: str, user_id: str) -> str:
    """Every evidence object of one user (erasure lists it: a List of the user's own prefix, not a scan)."""
    return f"evidence/{platform}/{user_id}/"


def issued_at(upload_id: str) -> datetime | None:
    """When the upload was issued, from its id; None when the id is not one of ours."""
    if not isinstance(upload_id, str) or len(upload_id) != 26 or any(c not in ids.ALPHABET for c in upload_id):
        return None
    millis = 0
    for char in upload_id[:10]:
        millis = millis * 32 + ids.ALPHABET.index(char)
    return clock.from_epoch_ms(millis)


def serves(upload_id: str, now: datetime) -> bool:
    """Whether the upload may still serve a check-in: issued by us, not in the future, within 24 hours."""
    issued = issued_at(upload_id)
    return issued is not None and issued - timedelta(minutes=5) <= now <= issued + UPLOAD_SERVES


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def chunks(photo_hash: int) -> list[int]:
    """The 4 chunks of 16 bits, the highest first."""
    mask = (1 << CHUNK_BITS) - 1
    return [(photo_hash >> (CHUNK_BITS * (CHUNKS - 1 - index))) & mask for index in range(CHUNKS)]


def bucket_key(index: int, value: int) -> str:
    return f"ph#{index}#{value:04x}"


def own_buckets(photo_hash: int) -> list[str]:
    """The 4 buckets this hash is added to."""
    return [bucket_key(index, value) for index, value in enumerate(chunks(photo_hash))]


def probe_buckets(photo_hash: int) -> list[str]:
    """The 68 buckets holding every earlier hash that may be within MAX_DISTANCE (module docstring)."""
    keys = []
    for index, value in enumerate(chunks(photo_hash)):
        keys.append(bucket_key(index, value))
        keys.extend(bucket_key(index, value ^ (1 << bit)) for bit in range(CHUNK_BITS))
    return keys


def hex_of(photo_hash: int) -> str:
    return f"{photo_hash:016x}"


def nearest(photo_hash: int, known: set[int], within: int) -> int | None:
    """The distance to the nearest known hash if one is within `within`, else None."""
    near = [distance(photo_hash, other) for other in known]
    best = min(near, default=None)
    return best if best is not None and best <= within else None


def kept_refusals(refusals: list | None, today: date) -> list[list[str]]:
    """The refusals ([ISO time, request_id]) still inside the window."""
    oldest = today - (PHOTO_REFUSAL_WINDOW - timedelta(days=1))
    return [list(item) for item in refusals or []
            if clock.business_day(clock.parse_iso(item[0])) >= oldest]


def with_refusal(refusals: list | None, at: datetime, request_id: str) -> list[list[str]] | None:
    """The account's refusals after this one (None: a retry of a refusal already recorded, nothing to write)."""
    kept = kept_refusals(refusals, clock.business_day(at))
    if any(item[1] == request_id for item in kept):
        return None
    return [*kept, [clock.iso(at), request_id]]


def photo_refusals_reached(refusals: list | None, today: date, limit: int, cleared: datetime | None = None) -> bool:
    """Rule 3's last clause: the person's refusals within 30 days reached `limit` (the catalog's
    `risk.photo_refusals`: the third, by default, puts them under review; services/evidence.py). Refusals at or
    before `cleared` (the end of the account's last review, domain/risk.cleared_at) are not counted: a person a
    reviewer cleared is not put under review again for the same refusals."""
    kept = kept_refusals(refusals, today)
    if cleared is not None:
        kept = [item for item in kept if clock.parse_iso(item[0]) > cleared]
    return len(kept) >= limit
