"""Trees: adopting one (POST /v1/trees/{id}/adopt), the offer (GET /v1/trees) and the caller's adoptions
(GET /v1/me/trees). Daily accrual is services/accrual.py.

    route (api/trees.py) -> adopt_tree -> domain/adoptions.py -> one posting
    (store/unit_of_work.py: a consistent GetItem of the account, one TransactWriteItems)

Adopting is a purchase: the transaction holds the `spend` entry and the balance (never below zero), one
unit of the tree's stock (`StockAvailable`: "tree#{id}", P's "P#tree#{id}"), and the adoption under its
certificate number (`AdoptionRecorded`: new). A number already taken draws another, as a new transaction.
A tree is one of the caller's platform's (`P#tree`); another platform's is 404 as a missing one.
"""
from __future__ import annotations

from ..domain import adoptions, clock
from ..domain.commands_trees import AdoptTree
from ..domain.guards import GuardFailed, IdempotencyKeyFree, StockAvailable
from ..domain.guards_trees import AdoptionRecorded
from ..domain.ids import stable_shard
from ..domain.platforms import DEFAULT
from ..domain.posting import Posting
from ..domain.results_trees import AdoptionResult, AdoptionsPage, Offer
from ..domain.shards import ADOPTIONS
from ..domain.trees import certificate_number
from ..errors import AccountFrozenError, ServiceUnavailableError, SoldOutError
from .profile import default_nickname

ROUTE = "POST /v1/trees/{id}/adopt"  # the operation idempotency records name (kept: they replay)
CERTIFICATE_ATTEMPTS = 5


def adopt_tree(command: AdoptTree, uow) -> AdoptionResult:
    """`uow`: store/uow_trees.DynamoTreesUnitOfWork (tests/unit/fakes_trees.py in unit tests)."""
    tree = uow.catalog.tree(command.tree_id, command.platform)  # another platform's tree: 404 as a missing one
    now = clock.now()
    for _ in range(CERTIFICATE_ATTEMPTS):
        number = certificate_number(clock.business_day(now).year)
        once = IdempotencyKeyFree(command.user_id, command.request_id, ROUTE, {"tree_id": tree.id})
        try:
            with uow.posting(command.user_id, once, command.request_id) as posting:
                for account in posting.attempts():
                    if account.frozen:
                        raise AccountFrozenError()
                    adoption = adoptions.adopt(tree, number, command.user_id,
                                               account.nickname or default_nickname(command.user_id), now,
                                               stable_shard(command.user_id, ADOPTIONS), command.request_id)
                    staged = posting.stage([Posting("spend", -tree.points_price, 0, "tree", ref=number,
                                                    inputs={"tree_id": tree.id, "certificate_no": number})])
                    posting.guard(StockAvailable(tree.stock_key))
                    posting.guard(AdoptionRecorded(adoption))
                    posting.commit(AdoptionResult(adoption, staged.points, staged.lines[0].receipt()))
        except GuardFailed as failed:
            if isinstance(failed.guard, StockAvailable):
                raise SoldOutError() from None
            continue  # the certificate number is someone's already: draw another
        return posting.result
    raise ServiceUnavailableError()


def offers(catalog, stock, platform: str = DEFAULT) -> list[Offer]:
    """The platform's trees by id and how many of each are left (one BatchGetItem of their stock)."""
    trees = sorted(catalog.trees(platform), key=lambda tree: tree.id)
    left = stock.left([tree.stock_key for tree in trees])
    return [Offer(tree, max(0, left.get(tree.stock_key, 0))) for tree in trees]


def my_adoptions(user_id: str, limit: int, cursor: str | None, repository) -> AdoptionsPage:
    """The user's adoptions, newest first (one Query)."""
    items, next_cursor = repository.of_user(user_id, limit, cursor)
    return AdoptionsPage(items, next_cursor)
