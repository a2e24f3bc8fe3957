"""What one container remembers of the goods' stock for a moment: which stock shards it found empty (the
"sold out" memory of a flash sale) and the shelf's stock figure (GET /v1/market/goods).

After a sell-out, every attempt would still cost a consistent GetItem and a refused transaction of seven
items; after `SOLD_OUT_SECONDS`, the container tries the shards again. Before that:
- a redemption skips the shards it remembers empty; when it remembers every shard of the goods empty, it
  answers OUT_OF_STOCK without reading the account or writing (services/redeem.py: one read of the caller's
  own idempotency record remains, so a retry of a request that succeeded still gets its first answer);
- a refund that gives a unit back (a cancel, expiry, account deletion) makes this container forget its
  memory of that shard at once; other containers sell the unit at most `SOLD_OUT_SECONDS` later. A catalog
  load that raises the stock is seen the same way (and the admin console's own container forgets at once:
  services/catalog.forget).

The shelf's figure of a goods is kept `SHELF_SECONDS`; this container's own sales and refunds move it, so
what a person just did shows at once where they did it, and other containers' sales show within the window.

Each Lambda container holds its own `CONTAINER` memory (bootstrap.ServedCatalog.sold_out); use-case tests
build their own (tests/unit/fakes.py). The clock is `time.monotonic` (tests move it with
tests/support/clock.monotonic_at).
"""
from __future__ import annotations

import time
from collections.abc import Iterable

SOLD_OUT_SECONDS = 2.0
SHELF_SECONDS = 1.5


class StockMemory:
    def __init__(self) -> None:
        self._empty: dict[str, dict[int, float]] = {}  # goods id -> {shard: when it was found empty}
        self._shelf: dict[str, tuple[float, int]] = {}  # goods id -> (when read, units left over all shards)

    # --- sold out ----------------------------------------------------------------------------------------

    def empty_shards(self, goods_id: str) -> set[int]:
        """The shards of the goods found empty less than SOLD_OUT_SECONDS ago."""
        seen = self._empty.get(goods_id)
        if not seen:
            return set()
        now = time.monotonic()
        fresh = {shard: at for shard, at in seen.items() if now - at < SOLD_OUT_SECONDS}
        if len(fresh) != len(seen):
            self._empty[goods_id] = fresh
        return set(fresh)

    def found_empty(self, goods_id: str, shards: Iterable[int]) -> None:
        now = time.monotonic()
        self._empty.setdefault(goods_id, {}).update((shard, now) for shard in shards)
        self._move_shelf(goods_id, None)

    def found_stocked(self, goods_id: str, shards: Iterable[int]) -> None:
        """A read showed units left in these shards: they are not empty (a refund elsewhere gave one back)."""
        seen = self._empty.get(goods_id)
        for shard in shards:
            if seen:
                seen.pop(shard, None)

    def sold_out(self, goods_id: str, stock_shards: int) -> bool:
        """Every shard of the goods was found empty a moment ago."""
        return len(self.empty_shards(goods_id)) >= stock_shards

    # --- what this container's own writes changed ------------------------------------------------------------

    def sold(self, goods_id: str) -> None:
        """This container took one unit of the goods."""
        self._move_shelf(goods_id, -1)

    def returned(self, goods_id: str, shard: int | None) -> None:
        """This container gave one unit back to `shard` (None: the goods' only shard, 0): it sells again now."""
        self.found_stocked(goods_id, [shard or 0])
        self._move_shelf(goods_id, +1)

    # --- the shelf's figure ------------------------------------------------------------------------------------

    def shelf_left(self, goods_ids: Iterable[str]) -> dict[str, int]:
        """The remembered units left of those goods read less than SHELF_SECONDS ago."""
        now = time.monotonic()
        return {goods_id: hit[1] for goods_id in goods_ids
                if (hit := self._shelf.get(goods_id)) is not None and now - hit[0] < SHELF_SECONDS}

    def remember_shelf(self, left: dict[str, int]) -> None:
        now = time.monotonic()
        self._shelf.update((goods_id, (now, units)) for goods_id, units in left.items())

    def _move_shelf(self, goods_id: str, by: int | None) -> None:
        hit = self._shelf.get(goods_id)
        if hit is not None:
            if by is None:  # found empty: the shelf shows what the shards say, 0 when every one is empty
                self._shelf.pop(goods_id)
            else:
                self._shelf[goods_id] = (hit[0], max(hit[1] + by, 0))

    def forget(self) -> None:
        self._empty.clear()
        self._shelf.clear()


CONTAINER = StockMemory()


def forget() -> None:
    """Drops this container's memory (services/catalog.forget: after a catalog load; tests)."""
    CONTAINER.forget()
