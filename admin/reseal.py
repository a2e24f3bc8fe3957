"""reseal: rewrites every sealed value under the current data key (the first of DATA_KEYS, or DATA_KEY), so a
previous key can be dropped (docs/deploy.md, "Rotating DATA_KEY and JWT_SECRET").

Every sealed attribute (chalicelib/sealing.py) lives in one of three tables, none with an index of its sealed
values, so this one-off console job reads each table page by page with a Scan (projected to the key and the
sealed attributes, filtered to items that have one). Request paths never scan; an operator's rotation job
that must see every sealed value once is what a Scan is for.

- Idempotent: a value already under the current key id is left as it is (not even opened).
- Safe against concurrent changes: each rewrite is an UpdateItem conditioned on the old sealed values, so a
  login, a refresh or an erasure that changed the item meanwhile wins, and is counted as `changed_meanwhile`
  (the item's other values, rewritten in the same update, are left too: a second run finishes them).
- Resumable: the position after each page is a cursor (`TABLE` or `TABLE:<page key>`) printed on stderr;
  `--from CURSOR` starts there, `--pages N` stops after N pages and reports where to go on.
- Reports counts per table: items read, values already current, resealed (with --dry-run: to reseal), changed
  meanwhile, and unreadable (no configured key opens them: those are left, and the exit status is 1).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from pynamodb.exceptions import UpdateError

from chalicelib.sealing import key_id_of, seal, unseal
from chalicelib.settings import get_settings
from chalicelib.store.market import Redemption
from chalicelib.store.models import Identity
from chalicelib.store.partners import PartnerToken
from chalicelib.store.repositories import address_context
from chalicelib.store.shared_token import token_context

from .console import CommandError

PAGE_SIZE = 100


@dataclass(frozen=True)
class Sealed:
    """One table's sealed attributes and what each item's values are bound to."""

    name: str  # the table's name without TABLE_PREFIX, as cursors name it
    model: type
    key: str
    attributes: tuple[str, ...]
    context: Callable[[str], str]  # the item's hash key -> the sealing context


TABLES = (
    Sealed("identities", Identity, "key", ("session_key_sealed", "unionid_sealed"), lambda key: key),
    Sealed("redemptions", Redemption, "redemption_id", ("address_sealed",), address_context),
    Sealed("partner_tokens", PartnerToken, "partner", ("token_sealed",), token_context),
)
COUNTS = ("items", "current", "resealed", "changed_meanwhile", "unreadable")


@dataclass
class Report:
    dry_run: bool
    key_id: str
    tables: dict[str, dict[str, int]] = field(default_factory=lambda: {t.name: dict.fromkeys(COUNTS, 0)
                                                                      for t in TABLES})
    next: str | None = None  # where a run stopped by --pages goes on; None once every table is done

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "key_id": self.key_id, "tables": self.tables, "next": self.next}


def parse_cursor(text: str | None) -> tuple[int, dict | None]:
    """(index of the table, the page key to start after) of a cursor this command printed."""
    if not text:
        return 0, None
    name, _, page = text.partition(":")
    index = next((i for i, table in enumerate(TABLES) if table.name == name), None)
    if index is None:
        raise CommandError(f"--from: unknown table {name!r} (one of {', '.join(t.name for t in TABLES)})")
    if not page:
        return index, None
    try:
        start = json.loads(base64.urlsafe_b64decode(page.encode() + b"=" * (-len(page) % 4)))
    except ValueError:
        raise CommandError("--from: not a cursor this command printed") from None
    if not isinstance(start, dict) or not start:
        raise CommandError("--from: not a cursor this command printed")
    return index, start


def _cursor(table: Sealed, start: dict | None) -> str:
    if start is None:
        return table.name
    return table.name + ":" + base64.urlsafe_b64encode(json.dumps(start, sort_keys=True).encode()).decode().rstrip("=")


def reseal(dry_run: bool, start: str | None = None, pages: int | None = None, page_size: int = PAGE_SIZE,
           on_page: Callable[[str], None] = lambda cursor: None) -> Report:
    """Rewrites what is not sealed under the current key, from `start`, for at most `pages` pages."""
    kid = get_settings().data_keys[0][0]
    report = Report(dry_run, kid)
    index, page_key = parse_cursor(start)
    read = 0
    for table in TABLES[index:]:
        counts = report.tables[table.name]
        while True:
            if pages is not None and read >= pages:
                report.next = _cursor(table, page_key)
                return report
            page_key = _page(table, page_key, page_size, kid, counts, dry_run)
            read += 1
            if page_key is None:
                break
            on_page(_cursor(table, page_key))
        page_key = None
        following = TABLES.index(table) + 1
        if following < len(TABLES):
            on_page(TABLES[following].name)
    return report


def _page(table: Sealed, start: dict | None, page_size: int, kid: str, counts: dict, dry_run: bool) -> dict | None:
    """One Scan page of `table` resealed; its LastEvaluatedKey (None at the end of the table)."""
    model = table.model
    has_one = None
    for name in table.attributes:
        exists = getattr(model, name).exists()
        has_one = exists if has_one is None else has_one | exists
    result = model.scan(has_one, limit=None, page_size=page_size, last_evaluated_key=start,
                        attributes_to_get=[table.key, *table.attributes])
    page = next(iter(result.page_iter), None) or {}
    for raw in page.get("Items", ()):
        counts["items"] += 1
        _item(table, model.from_raw_data(raw), kid, counts, dry_run)
    return page.get("LastEvaluatedKey") or None


def _item(table: Sealed, item, kid: str, counts: dict, dry_run: bool) -> None:
    key = getattr(item, table.key)
    context = table.context(key)
    changes = {}
    for name in table.attributes:
        old = getattr(item, name)
        if not old:
            continue
        if key_id_of(old) == kid:
            counts["current"] += 1
            continue
        try:
            changes[name] = (old, seal(unseal(old, context), context))
        except ValueError:
            counts["unreadable"] += 1
    if not changes:
        return
    if dry_run:
        counts["resealed"] += len(changes)
        return
    model = table.model
    condition = None
    for name, (old, _) in changes.items():
        same = getattr(model, name) == old
        condition = same if condition is None else condition & same
    try:
        model(key).update(actions=[getattr(model, name).set(new) for name, (_, new) in changes.items()],
                          condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        counts["changed_meanwhile"] += len(changes)
        return
    counts["resealed"] += len(changes)
