"""The saplings' in-memory unit of work, over tests/unit/fakes.py's (same promises, for use-case tests only):
the trees' catalog and stock, and the adoptions with their two guards. Conditions, transactions and races
against DynamoDB Local: tests/integration/test_trees.py, tests/races/test_tree_races.py."""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from chalicelib.domain.adoptions import Adoption
from chalicelib.domain.guards_trees import AdoptionAdvanced, AdoptionRecorded
from chalicelib.domain.trees import Tree, tree_from_catalog
from chalicelib.errors import NotFoundError
from tests.unit.fakes import DEMO_CATALOG, FakeAccount, FakeCatalog, InMemoryPostingUnitOfWork


@dataclass
class TreeAccount(FakeAccount):
    nickname: str | None = None


class FakeTreesCatalog(FakeCatalog):
    def __init__(self) -> None:
        super().__init__()
        self.grove: dict[str, Tree] = {t["id"]: tree_from_catalog(t) for t in DEMO_CATALOG["trees"]}

    def tree(self, tree_id: object, platform: str = "default") -> Tree:
        if tree_id not in self.grove or self.grove[tree_id].platform != platform:
            raise NotFoundError("没有这种树苗", tree_id=tree_id)
        return self.grove[tree_id]

    def trees(self, platform: str = "default") -> list[Tree]:
        return [tree for tree in self.grove.values() if tree.platform == platform]


class InMemoryAdoptions:
    def __init__(self) -> None:
        self.items: dict[str, Adoption] = {}
        self.reads = 0

    def of_user(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[Adoption], str | None]:
        mine = sorted((a for a in self.items.values() if a.user_id == user_id), key=lambda a: a.adopted_at,
                      reverse=True)
        start = int(cursor or 0)
        return mine[start:start + limit], str(start + limit) if start + limit < len(mine) else None

    def accruing(self, shard: int, before_day: str, limit: int, cursor: dict | None) -> tuple[list[str], dict | None]:
        keys = sorted((a.adopted_day, a.adoption_id) for a in self.items.values()
                      if a.accrual_shard == shard and a.adopted_day < before_day)
        if cursor:
            keys = [key for key in keys if key > (cursor["adopted_day"], cursor["adoption_id"])]
        page = keys[:limit]
        last = {"adopted_day": page[-1][0], "adoption_id": page[-1][1]} if len(page) == limit else None
        return [adoption_id for _, adoption_id in page], last

    def get_many(self, adoption_ids: list[str]) -> list[Adoption]:
        self.reads += 1
        return [self.items[i] for i in adoption_ids if i in self.items]

    def retire(self, adoption_ids: list[str]) -> None:
        for adoption_id in adoption_ids:
            self.items[adoption_id] = replace(self.items[adoption_id], accrual_shard=None)

    @staticmethod
    def warm() -> None:
        pass


class InMemoryTreeStock:
    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = stock

    def left(self, stock_keys: list[str]) -> dict[str, int]:
        return {key: self.stock[key] for key in stock_keys if key in self.stock}


class InMemoryTreesUnitOfWork(InMemoryPostingUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.catalog = FakeTreesCatalog()
        self.stock.update({tree.stock_key: tree.stock for tree in self.catalog.grove.values()})
        self.adoptions = InMemoryAdoptions()
        self.tree_stock = InMemoryTreeStock(self.stock)

    def another(self) -> InMemoryTreesUnitOfWork:
        """A unit of work over the same data (the accrual makes one per user: bootstrap.trees_uow)."""
        return copy.copy(self)

    def _holds(self, guard: object) -> bool:
        if isinstance(guard, AdoptionRecorded):
            return guard.adoption.adoption_id not in self.adoptions.items
        if isinstance(guard, AdoptionAdvanced):
            stored = self.adoptions.items.get(guard.read.adoption_id)
            return stored is not None and stored.accrued_through == guard.read.accrued_through
        return super()._holds(guard)

    def _apply(self, record: dict | None) -> None:
        super()._apply(record)
        for guard in self.guards:
            if isinstance(guard, AdoptionRecorded):
                self.adoptions.items[guard.adoption.adoption_id] = guard.adoption
            elif isinstance(guard, AdoptionAdvanced):
                self.adoptions.items[guard.read.adoption_id] = guard.to
