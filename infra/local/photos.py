"""Photo-like test images and the browser-style upload of one: what the tests (tests/support/photos.py), the
bench (bench/steady.py) and the console's risk simulator (admin/risk_simulate.py) send as evidence photos."""
from __future__ import annotations

import io
import random
import secrets

import requests


def photo(seed: int | None = None, size: int = 480, quality: int = 90, image_format: str = "JPEG") -> bytes:
    """A photo-like image: a random 12 x 12 grid of colours, smoothly enlarged (its dHash is stable under
    resizing and re-encoding, and about 32 bits away from another seed's)."""
    image = grid(seed).resize((size, size), bicubic())
    out = io.BytesIO()
    image.save(out, image_format, **({"quality": quality} if image_format == "JPEG" else {}))
    return out.getvalue()


def grid(seed: int | None = None):
    from PIL import Image

    rng = random.Random(secrets.randbits(64) if seed is None else seed)
    small = Image.new("RGB", (12, 12))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(144)])
    return small


def bicubic():
    from PIL import Image

    return Image.Resampling.BICUBIC


def post_form(upload: dict, data: bytes, content_type: str = "image/jpeg", **overrides: str) -> requests.Response:
    """The browser-style POST of a file with the fields POST /v1/uploads returned (`overrides` changes some)."""
    fields = {**upload["fields"], **overrides}
    return requests.post(upload["url"], data=fields, files={"file": ("photo", data, content_type)}, timeout=10)
