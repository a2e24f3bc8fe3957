"""Evidence photos in the tests: generated images (no two tests' photos near: random colour grids from a CSPRNG
seed), uploaded as the mini program does (POST /v1/uploads, then a real multipart POST of the returned fields
to the local S3-compatible server), and check-ins with them."""
from __future__ import annotations

import io
import secrets
import time
from contextlib import contextmanager

from infra.local.photos import bicubic, grid, photo, post_form
from tests.support.api import call, request_id

PHOTO_BEHAVIORS = ("clean_plate", "garbage_sorting")


def fresh_seed() -> int:
    return secrets.randbits(64)


def near_copies(seed: int, count: int = 3) -> list[bytes]:
    """Copies of photo(seed) a farmer might make: one cell of the grid inverted, smaller and re-encoded at a lower
    JPEG quality. Their hashes differ from the original's (the exact-hash marker does not catch them) by a few
    bits; the test asserts how many."""
    from chalicelib.domain.evidence import distance
    from chalicelib.domain.photo_hash import dhash
    from chalicelib.domain.risk import RiskSettings

    within = RiskSettings().photo_distance  # the contract's default

    original, copies = dhash(photo(seed)), []
    for cell in range(144):
        image = grid(seed)
        red, green, blue = image.getpixel((cell % 12, cell // 12))
        image.putpixel((cell % 12, cell // 12), (255 - red, 255 - green, 255 - blue))
        out = io.BytesIO()
        image.resize((400, 400), bicubic()).save(out, "JPEG", quality=60)
        if 1 <= distance(original, dhash(out.getvalue())) <= within:
            copies.append(out.getvalue())
        if len(copies) == count:
            return copies
    raise AssertionError("no near copy found")


def request_upload(client, user: dict, content_type: str = "image/jpeg", size: int = 1000):
    return call(client, "POST", "/v1/uploads", {"purpose": "checkin_evidence", "content_type": content_type,
                                                "size": size}, token=user["token"])


def upload(client, user: dict, data: bytes | None = None, content_type: str = "image/jpeg") -> str:
    """A fresh photo (or `data`) uploaded by `user`; its upload_id."""
    data = photo() if data is None else data
    status, body = request_upload(client, user, content_type, len(data))
    assert status == 201, body
    sent = post_form(body, data, content_type)
    assert sent.status_code == 204, sent.text
    return body["upload_id"]


def evidence_for(client, user: dict, behavior: str) -> dict:
    """The fields a check-in of `behavior` needs besides its request_id: a fresh photo's upload for the demo
    catalog's photo behaviours (clean_plate, garbage_sorting), nothing for the others."""
    return {"evidence": {"upload_id": upload(client, user)}} if behavior in PHOTO_BEHAVIORS else {}


def checkin(client, user: dict, behavior: str = "clean_plate", data: bytes | None = None, rid: str | None = None,
            upload_id: str | None = None):
    """A check-in of a photo behaviour with a fresh photo (or `data`, or an existing `upload_id`)."""
    upload_id = upload_id or upload(client, user, data)
    return call(client, "POST", "/v1/checkins", {"request_id": rid or request_id(), "behavior": behavior,
                                                 "evidence": {"upload_id": upload_id}}, token=user["token"])


@contextmanager
def photo_required(*codes: str):
    """The catalog's behaviours `codes` require a photo for the duration of the block (this process's cached
    catalog, as a `load` of a catalog saying `"evidence": ["photo"]` would make it; the demo catalog's
    clean_plate and garbage_sorting already do). The behaviours and the policies (the `risk` section a photo
    check-in judges with) stay cached for the block: a test counting a check-in's calls counts no catalog
    refresh (a Query a minute per container)."""
    from chalicelib.services import catalog

    catalog.forget()
    items = catalog._partition("behavior")
    changed = {**items, **{code: {**items[code], "evidence": ["photo"]} for code in codes}}
    catalog._cache["behavior"] = (time.monotonic() + 10 ** 9, changed)
    catalog._cache["policy"] = (time.monotonic() + 10 ** 9, catalog._partition("policy"))
    try:
        yield
    finally:
        catalog.forget()


def raced_checkin(user_id: str, body: dict, platform: str = "default") -> tuple[int, str]:
    """tests/support/racer.checkin in a racing process, with the photo behaviours requiring a photo there too."""
    from tests.support.racer import checkin as racer_checkin

    with photo_required(*PHOTO_BEHAVIORS):
        return racer_checkin(user_id, body, platform)
