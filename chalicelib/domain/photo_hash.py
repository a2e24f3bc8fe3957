"""The perceptual hash of an evidence photo: a 64-bit difference hash (dHash) computed with Pillow.

dHash: the image in grey, reduced to 9 x 8 pixels, one bit per pair of horizontal neighbours (is the left one
brighter?). Resizing, re-encoding at another JPEG quality or small colour changes keep most bits; a different
photo differs in about half of them. Pillow is imported when a photo is hashed, not when this module is, so the
cold start of routes without photos does not pay for it (STYLE.md 9); imagehash would pull numpy and scipy
into the Lambda package for the same 64 bits.

Only JPEG and PNG are accepted, and only images Pillow fully decodes: anything else is `NotAPhoto`. A huge
canvas in a small file (a decompression bomb) is refused before it is decoded.
"""
from __future__ import annotations

import io

MAX_PIXELS = 40_000_000  # a 5 MiB photo of a modern phone is about 12 to 50 megapixels; beyond this: refused
FORMATS = ("JPEG", "PNG")


class NotAPhotoError(ValueError):
    """The bytes are not a JPEG or PNG image that decodes."""


def dhash(data: bytes) -> int:
    """The 64-bit dHash of a JPEG or PNG image; NotAPhotoError otherwise."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS or not width or not height:
                raise NotAPhotoError("image too large or empty")
            image.draft("L", (64, 64))  # a JPEG decodes at a reduced scale: far faster, same hash
            grey = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise NotAPhotoError(str(exc)) from None
    pixels = grey.tobytes()  # 72 bytes, one per grey pixel, row by row
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | int(left > right)
    return bits
