"""The hashing of the public transparency record (docs/transparency.md): canonical JSON, RFC 6962 Merkle trees,
inclusion paths and the chain of daily roots.

Pure and standard library only, so the standalone verifier can hold the same arithmetic:
- `leaf_hash(b) = sha256(0x00 || b)`, `node(l, r) = sha256(0x01 || l || r)`;
- `mth(hashes)`: the RFC 6962 Merkle tree hash of leaf hashes (empty: sha256(b""); one: itself; n > 1: k the
  largest power of two below n, node(mth(first k), mth(rest)));
- `path(hashes, i)`: the audit path of the i-th leaf, as steps {"side": "L"|"R", "hash": hex} to fold from the
  leaf up (`fold`);
- `chain_hash(...)`: sha256(0x02 || canonical JSON of the day's commitments), each day committing to the previous.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

ZERO = "0" * 64  # the `prev` of a platform's first rooted day
EMPTY = hashlib.sha256(b"").digest()


def canonical(obj: Any) -> bytes:
    """The one serialization every hash here is taken over: sorted keys, no spaces, UTF-8 (no ASCII escapes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(leaf_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_bytes).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962's Merkle tree hash over leaf hashes (already hashed: an empty list is sha256(b""))."""
    if not hashes:
        return EMPTY
    level = list(hashes)
    if len(level) == 1:
        return level[0]
    k = _split(len(level))
    return node(mth(level[:k]), mth(level[k:]))


def path(hashes: list[bytes], index: int) -> list[dict]:
    """The audit path of `hashes[index]`, leaf to root: each step the sibling subtree's hash and its side."""
    if not 0 <= index < len(hashes):
        raise IndexError(index)
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*path(hashes[:k], index), {"side": "R", "hash": mth(hashes[k:]).hex()}]
    return [*path(hashes[k:], index - k), {"side": "L", "hash": mth(hashes[:k]).hex()}]


def fold(start: bytes, steps: list[dict]) -> bytes:
    """The root a path leads to from `start`: node(step, h) for a step on the left, node(h, step) on the right."""
    h = start
    for step in steps:
        sibling = bytes.fromhex(step["hash"])
        h = node(sibling, h) if step["side"] == "L" else node(h, sibling)
    return h


def chain_hash(platform: str, day: str, root: str, entries: int, carbon_mg: int, prev: str) -> str:
    """The chain value of a day (hex): it commits to the day's root and counts and to the previous day's chain."""
    body = {"v": 1, "platform": platform, "day": day, "root": root, "entries": entries, "carbon_mg": carbon_mg,
            "prev": prev}
    return hashlib.sha256(b"\x02" + canonical(body)).hexdigest()
