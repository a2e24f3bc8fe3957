"""Evidence photos as pure rules (domain/evidence.py, domain/photo_hash.py): the perceptual hash, the buckets
multi-index hashing probes, the upload id's own issue time, and the refusals that count toward review."""
from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest

from chalicelib.domain import clock, evidence, ids
from chalicelib.domain.photo_hash import NotAPhotoError, dhash
from chalicelib.domain.risk import RiskError, RiskSettings, settings_from
from infra.local.photos import grid, photo


def _reencoded(data: bytes, size: int, quality: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).resize((size, size)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_the_hash_is_stable_for_the_same_image():
    data = photo(seed=7)
    assert dhash(data) == dhash(data) == dhash(photo(seed=7))
    assert 0 <= dhash(data) < 2 ** 64


def test_resized_reencoded_and_png_copies_stay_within_the_distance():
    data = photo(seed=11)
    for copy in (_reencoded(data, 300, 40), _reencoded(data, 1000, 95), photo(seed=11, image_format="PNG")):
        assert evidence.distance(dhash(data), dhash(copy)) <= RiskSettings().photo_distance


def test_different_photos_are_far_apart():
    hashes = [dhash(photo(seed=seed)) for seed in range(40)]
    near = [(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1:]
            if evidence.distance(a, b) <= RiskSettings().photo_distance]
    assert near == []


@pytest.mark.parametrize("data", [b"", b"hello", b"\xff\xd8\xff\xe0 truncated jpeg", b"GIF89a" + b"\0" * 40])
def test_what_is_not_a_jpeg_or_png_is_refused(data):
    with pytest.raises(NotAPhotoError):
        dhash(data)


def test_a_gif_is_refused_even_when_it_decodes():
    out = io.BytesIO()
    grid(1).save(out, "GIF")
    with pytest.raises(NotAPhotoError):
        dhash(out.getvalue())


def test_probes_are_the_four_chunks_and_each_one_bit_neighbour():
    photo_hash = random.Random(3).getrandbits(64)
    probes = evidence.probe_buckets(photo_hash)
    assert len(probes) == len(set(probes)) == 68
    own = evidence.own_buckets(photo_hash)
    assert set(own) <= set(probes)
    for key in probes:
        _, index, value = key.split("#")
        chunk = evidence.chunks(photo_hash)[int(index)]
        assert (chunk ^ int(value, 16)).bit_count() <= 1


def test_every_hash_within_the_distance_shares_a_probed_bucket():
    """The pigeonhole property multi-index hashing relies on, on random hashes and random flips."""
    rng = random.Random(5)
    for _ in range(3000):
        stored = rng.getrandbits(64)
        flips = rng.sample(range(64), rng.randint(0, evidence.MAX_DISTANCE))
        probe = stored
        for bit in flips:
            probe ^= 1 << bit
        assert set(evidence.own_buckets(stored)) & set(evidence.probe_buckets(probe)), (stored, flips)


def test_seven_bits_spread_two_per_chunk_may_escape_the_probes():
    """Why the distance is at most 7 for 4 chunks (MAX_DISTANCE, the most a catalog may set): 2 bits in each
    of 3 chunks and 1 in the last is still found, 2 in each of 4 chunks (8 bits) is not."""
    assert evidence.MAX_DISTANCE == 7
    assert settings_from({"photo_distance": evidence.MAX_DISTANCE}).photo_distance == 7
    with pytest.raises(RiskError):
        settings_from({"photo_distance": evidence.MAX_DISTANCE + 1})
    stored = 0
    assert set(evidence.own_buckets(stored)) & set(evidence.probe_buckets(0b11 | 0b11 << 16 | 0b11 << 32 | 1 << 48))
    assert not set(evidence.own_buckets(stored)) & set(evidence.probe_buckets(
        0b11 | 0b11 << 16 | 0b11 << 32 | 0b11 << 48))


def test_an_upload_id_carries_its_issue_time_and_serves_24_hours():
    now = clock.now()
    upload_id = ids.sortable_id(clock.epoch_ms(now))
    assert abs((evidence.issued_at(upload_id) - now).total_seconds()) < 0.002
    assert evidence.serves(upload_id, now + timedelta(hours=23, minutes=59))
    assert not evidence.serves(upload_id, now + timedelta(hours=24, seconds=1))
    assert not evidence.serves(upload_id, now - timedelta(hours=1))
    for other in ("", "x" * 26, "0" * 25, None, "u_" + "A" * 24):
        assert not evidence.serves(other, now)


def test_refusals_are_counted_within_30_days_and_each_request_once():
    now = clock.now()
    old = [[clock.iso(now - timedelta(days=30)), "r-old"]]
    refusals = evidence.with_refusal(old, now, "r1")
    assert [item[1] for item in refusals] == ["r1"]  # 30 days ago has left the window
    assert evidence.with_refusal(refusals, now, "r1") is None  # a retry of the same refused request
    refusals = evidence.with_refusal(evidence.with_refusal(refusals, now, "r2"), now, "r3")
    limit = RiskSettings().photo_refusals
    assert limit == 3
    assert not evidence.photo_refusals_reached(refusals[:2], clock.business_day(now), limit)
    assert evidence.photo_refusals_reached(refusals, clock.business_day(now), limit)
    assert evidence.photo_refusals_reached(refusals[:2], clock.business_day(now), 2)  # a catalog's lower number
    assert not evidence.photo_refusals_reached(refusals, clock.business_day(now + timedelta(days=30)), limit)


def test_refusals_spread_over_more_than_30_days_never_reach_three():
    """29 days ago, 12 days ago and today reach it; a first refusal 30 business days ago has left the window."""
    now = clock.now()
    limit = RiskSettings().photo_refusals
    refusals = None
    for days_ago, rid in ((29, "a"), (12, "b"), (0, "c")):
        refusals = evidence.with_refusal(refusals, now - timedelta(days=days_ago), rid)
    assert evidence.photo_refusals_reached(refusals, clock.business_day(now), limit)
    refusals = None
    for days_ago, rid in ((30, "a"), (12, "b"), (0, "c")):
        refusals = evidence.with_refusal(refusals, now - timedelta(days=days_ago), rid)
    assert not evidence.photo_refusals_reached(refusals, clock.business_day(now), limit)


def test_object_keys_are_the_callers_own():
    assert evidence.object_key("company-demo", "u_1", "UP") == "evidence/company-demo/u_1/UP"
    assert evidence.object_key("default", "u_1", "UP").startswith(evidence.user_prefix("default", "u_1"))
