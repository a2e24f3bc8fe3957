"""Helpers of the org, leaderboard and stats tests: orgs of the test's own, and draining the jobs."""
from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from admin.__main__ import main as admin
from tests.support.api import call, request_id


def drain() -> None:
    """What AWS runs from streams and schedules, until everything so far is counted and boards rebuilt."""
    assert admin(["run-jobs", "--once"]) == 0


def marked(shard: int) -> list[str]:
    """The boards ("board|period") fold shard `shard` marked and the rebuild has not built since, from its marker
    partitions of every rebuild shard."""
    from chalicelib.domain.ranking import REBUILD_SHARDS
    from chalicelib.store.aggregates import Board, marker_partition

    return sorted(m.period.rsplit("|", 1)[0] for r in range(REBUILD_SHARDS)
                  for m in Board.query(marker_partition(r, shard)))


def make_orgs(*kinds: str) -> list[dict]:
    """Fresh orgs loaded through `python -m admin load`: [{"id", "name", "type", "invite_code"}]."""
    orgs = [{"id": f"o-test-{uuid.uuid4().hex[:10]}", "name": f"测试组织{n}", "type": kind,
             "invite_code": f"INV-{uuid.uuid4().hex[:8]}"} for n, kind in enumerate(kinds)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orgs.json"
        path.write_text(json.dumps({"orgs": orgs}, ensure_ascii=False), encoding="utf-8")
        assert admin(["load", str(path)]) == 0
    return orgs


def join(client, user: dict, org: dict, code: str | None = None):
    return call(client, "POST", f"/v1/orgs/{org['id']}/join", {"invite_code": code or org["invite_code"]},
                token=user["token"])


def checkin(client, user: dict, behavior: str = "clean_plate"):
    """A check-in of the person's, counted by the boards; a clean plate (or garbage sorting) with its photo, as the
    demo catalog requires (tests/support/photos.py)."""
    from tests.support.photos import evidence_for

    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                         **evidence_for(client, user, behavior)},
                        token=user["token"])
    assert status == 201, body
    return body


def person_total(owner: str, period: str) -> int | None:
    """A person's total on a board in a period as the app reads it ("u#{user}" or "m#{org}#{user}": their tally,
    its archives, or the legacy per-board item; store/repositories_boards.DynamoBoardReads.total)."""
    from chalicelib.store.repositories_boards import DynamoBoardReads

    return DynamoBoardReads.total(owner, period)
