"""Wires the use cases to their adapters: the one place that says which unit of work a request uses.

Built per request (a unit of work holds one posting's state); the clients beneath it are built once per
container (store/tx.connection). Tests of use cases build tests/unit/fakes.py's in-memory one instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .domain.market import Goods
from .domain.methodology import Rule
from .domain.platforms import DEFAULT
from .services import catalog, goods, stock_memory
from .store.dynamo_uow import DynamoPostingUnitOfWork
from .store.repositories import StockLeft

if TYPE_CHECKING:
    from .domain.trees import Tree
    from .services.boards import BoardBuilding, BoardReading
    from .store.collection_uow import DynamoCollectionUnitOfWork
    from .store.dynamo_uow_partners import DynamoPartnerUnitOfWork
    from .store.fold_store import DynamoFoldStore
    from .store.inbox import DynamoInbox
    from .store.repositories_boards import DynamoPlatformCounts
    from .store.repositories_consent import Bindings
    from .store.repositories_export import HeldReads
    from .store.repositories_ledger import LedgerReads
    from .store.repositories_market import SoldRedemptions
    from .store.repositories_orgs import Memberships
    from .store.repositories_profile import Profiles
    from .store.scans import Scans


class ServedCatalog:
    """The catalog as the use cases read it: the per-container caches of services/catalog.py and goods.py,
    and the container's memory of sold-out stock shards (services/stock_memory.py)."""

    sold_out = stock_memory.CONTAINER

    @staticmethod
    def behavior(code: object, platform: str = DEFAULT) -> Rule:
        return catalog.behavior(code, platform)

    @staticmethod
    def risk_settings():
        """The risk rules' thresholds (the catalog's `risk` section, cached with the policy partition)."""
        return catalog.risk_settings()

    @staticmethod
    def goods_on_sale(goods_id: str, platform: str = DEFAULT) -> Goods:
        return goods.on_sale(goods_id, platform)


    @staticmethod
    def tree(tree_id: object, platform: str = DEFAULT) -> Tree:
        from .domain.trees import tree_from_catalog  # here: a check-in's cold start does not load it

        return tree_from_catalog(catalog.tree(tree_id, platform), platform)

    @staticmethod
    def trees(platform: str = DEFAULT) -> list[Tree]:
        from .domain.trees import tree_from_catalog

        return [tree_from_catalog(data, platform) for data in catalog.trees(platform).values()]


class ServedShelf:
    """The shelf as GET /v1/market/goods reads it (services/goods.listing): one platform's catalog goods and
    merchants (cached per container), the stock left (eventually consistent) and the container's memory of it."""

    memory = stock_memory.CONTAINER

    def __init__(self, platform: str = DEFAULT) -> None:
        self.platform = platform

    def goods(self) -> dict[str, dict]:
        return catalog.goods(self.platform)

    def merchants(self) -> dict[str, dict]:
        return catalog.merchants(self.platform)

    @staticmethod
    def stock_left(stock_keys: list[str]) -> dict[str, int]:
        return StockLeft().shelf(stock_keys)


def shelf(platform: str = DEFAULT) -> ServedShelf:
    return ServedShelf(platform)


def posting_uow() -> DynamoPostingUnitOfWork:
    return DynamoPostingUnitOfWork(ServedCatalog())


class CollectionCatalog(ServedCatalog):
    """The catalog with the merchants a collection point's staff credit for."""

    @staticmethod
    def merchant(merchant_id: str, platform: str = DEFAULT) -> dict | None:
        return catalog.merchants(platform).get(merchant_id)


def collection_uow() -> DynamoCollectionUnitOfWork:
    """Collection points' unit of work (services/collection.py); a wrong member code counts against the
    staff member's failed scans (services/attempts.py). Imported here: a check-in's cold start does not pay."""
    from .services import attempts
    from .store.collection_uow import DynamoCollectionUnitOfWork

    return DynamoCollectionUnitOfWork(CollectionCatalog(), failed_scans=attempts)


def partner_uow() -> DynamoPartnerUnitOfWork:
    """Partner data coming in (ingest, pulls, pushes, WeChat Sports): the posting unit of work and the
    partner repositories (store/repositories_partners.py). Imported here: a check-in's cold start does not pay."""
    from .store.dynamo_uow_partners import DynamoPartnerUnitOfWork

    return DynamoPartnerUnitOfWork(ServedCatalog())


def sold_redemptions() -> SoldRedemptions:
    """Imported when first asked for, like the one below: a check-in's cold start does not load them."""
    from .store.repositories_market import SoldRedemptions

    return SoldRedemptions()


def profiles() -> Profiles:
    """GET and PATCH /v1/me (services/profile.py): the account and the nickname moderation queue."""
    from .store.repositories_profile import Profiles

    return Profiles()


def link_codes():
    """The open protocol's link codes (services/open_links.py)."""
    from .store.link_codes import LinkCodes

    return LinkCodes()


def partner_tallies():
    """The partners' delivery and consent counters (store/partner_tallies.py): `partner list`'s figures."""
    from .store.partner_tallies import PartnerTallies

    return PartnerTallies()


def replay_guards():
    """The partners' replay guards (services/webhooks.py, open_links.py)."""
    from .store.repositories_partners import ReplayGuards

    return ReplayGuards()


def consents() -> Bindings:
    """Binding, revoking and listing partners (services/consent.py, partners.py)."""
    from .store.repositories_consent import Bindings

    return Bindings()


def scans() -> Scans:
    from .store.scans import Scans

    return Scans()


def memberships(platform: str = DEFAULT) -> Memberships:
    """Joining an org of `platform` and reading its totals (services/orgs.py), over that platform's orgs."""
    from .store.repositories_orgs import Memberships

    return Memberships(lambda: catalog.orgs(platform), platform)


def trees_uow() -> DynamoPostingUnitOfWork:
    """Adopting and accruing (services/trees.py, services/accrual.py): the adoptions and the trees' stock too
    (store/uow_trees.py, imported here: a check-in's cold start does not load it)."""
    from .store.uow_trees import DynamoTreesUnitOfWork

    return DynamoTreesUnitOfWork(ServedCatalog())


def fold_store() -> DynamoFoldStore:
    """The fold's reads and writes (services/fold.py); imported here: a check-in's cold start does not load it."""
    from .store.fold_store import DynamoFoldStore

    return DynamoFoldStore()


def inbox() -> DynamoInbox:
    """The aggregation inbox the stream handlers file into (services/aggregate.py)."""
    from .store.inbox import DynamoInbox

    return DynamoInbox()


def board_reading() -> BoardReading:
    """Reading the leaderboards (services/boards.py): the boards' reads (store/repositories_boards.py), the
    catalog's orgs and a person's orgs. Imported here: a check-in's cold start does not pay."""
    from .services import profile
    from .services.boards import BoardReading
    from .store.repositories_boards import DynamoBoardReads

    return BoardReading(DynamoBoardReads(), catalog.orgs,
                        lambda user_id: [o["id"] for o in profile.account(user_id).orgs or []])


def board_building() -> BoardBuilding:
    """The materialize-boards job (services/boards.py): the boards' builds, the catalog's orgs, public names."""
    from .services import public_names
    from .services.boards import BoardBuilding
    from .store.repositories_boards import DynamoBoardBuilds

    return BoardBuilding(DynamoBoardBuilds(), catalog.orgs, public_names.public_names)


def platform_counts() -> DynamoPlatformCounts:
    """The public statistics' counters (services/stats.py)."""
    from .store.repositories_boards import DynamoPlatformCounts

    return DynamoPlatformCounts()


def ledger_reads() -> LedgerReads:
    """One's own ledger and totals (services/ledger.py). Imported here: a check-in's cold start does not pay."""
    from .store.repositories_ledger import LedgerReads

    return LedgerReads()


def appeals():
    """POST /v1/me/appeals (services/appeals.py): the account's appeal (store/review_queue.py)."""
    from .store.review_queue import Appeals

    return Appeals()


def subscriptions():
    """POST and GET /v1/me/subscriptions (services/subscriptions.py): the user's nudge items (store/nudges.py)."""
    from .store.repositories_nudges import Subscriptions

    return Subscriptions()


def held_reads() -> HeldReads:
    """What an export reads (services/export.py)."""
    from .store.repositories_export import HeldReads

    return HeldReads()


# What each Lambda function besides the jobs touches in DynamoDB (a job's is its `Job.touches`, jobs.py): the
# store pieces its use cases are wired to above or import, named "module:attribute" (a module without one: its
# ACCESS); importing this module imports none of them. Each declares its tables and actions (store/access.py);
# infra/aws/policy.py grants the function exactly their union, and tests/infra/test_roles_in_use.py fails on a
# call they do not cover. A feature adds its pieces here.
_STORE = "chalicelib.store."
API_TOUCHES = (
    _STORE + "dynamo_uow:DynamoPostingUnitOfWork",  # check-ins, redemptions, cancels, corrections
    _STORE + "collection_uow:DynamoCollectionUnitOfWork",
    _STORE + "dynamo_uow_partners:DynamoPartnerUnitOfWork",  # ingest, pulls, pushes, WeChat Sports
    _STORE + "uow_trees:DynamoTreesUnitOfWork",
    _STORE + "attempts",  # failed-scan windows (services/attempts.py)
    _STORE + "link_codes:LinkCodes",  # the open protocol's link codes (services/open_links.py)
    _STORE + "photo_hashes:PhotoHashes",  # a photo check-in's read and guards (services/evidence.py)
    _STORE + "partner_tallies:PartnerTallies",  # a webhook's delivery counted (store/partner_tallies.py)
    _STORE + "logins",
    _STORE + "repositories_boards:DynamoBoardReads",
    _STORE + "repositories_boards:DynamoPlatformCounts",
    _STORE + "repositories_consent:Bindings",
    _STORE + "repositories_export:HeldReads",
    _STORE + "review_queue:Appeals",  # POST /v1/me/appeals
    _STORE + "repositories_nudges:Subscriptions",  # POST and GET /v1/me/subscriptions
    _STORE + "repositories_nudges:erase",  # DELETE /v1/me forgets allowances and history
    _STORE + "repositories_ledger:LedgerReads",
    _STORE + "repositories_market:SoldRedemptions",
    _STORE + "repositories_profile:Profiles",
    _STORE + "repositories_public_names:BoardMarks",
    _STORE + "repositories_quotas:Quotas",
    _STORE + "repositories_quotas:SyncSlots",
    _STORE + "scans:Scans",
    _STORE + "shared_token:SharedToken",
    _STORE + "repositories_expiry:expire_unrefunded",  # an account deletion's issued redemptions
    *(_STORE + f"repositories_erasure:{name}" for name in (  # DELETE /v1/me (services/erasure.py)
        "account", "erasure", "record", "freeze", "redemptions_of", "adoptions_of", "remove_address",
        "anonymize_adoption", "recent_requests", "user_ids_of", "forget_requests", "remove_identity",
        "scrub_account", "leave_moderation", "scrub_consents", "finish", "unionid_sealed")),
    _STORE + "persons:leave",  # the deleted account leaves its person
    _STORE + "catalog_items",  # services/catalog.py's cache
    _STORE + "repositories:StockLeft",  # the shelf's stock (ServedShelf)
    _STORE + "repositories_orgs:Memberships",
    _STORE + "revocations",  # every authenticated route (services/revocations.py)
    *(_STORE + f"transparency:{name}" for name in ("entry", "day_root", "day_roots")),  # docs/transparency.md
)
STREAM_TOUCHES = {  # app.py's stream handlers (services/aggregate.py files each record into the inbox)
    "ledger_stream": (_STORE + "inbox:DynamoInbox",),
    "identity_stream": (_STORE + "inbox:DynamoInbox",),
}
