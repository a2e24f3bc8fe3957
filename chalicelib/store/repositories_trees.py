"""The saplings' repositories: adoptions (store/trees.py) and the trees' stock, in domain words.

An adoption is read and written as `domain.adoptions.Adoption` (imported as `domain`); PynamoDB stays here.
The writes of a posting are staged into its one transaction (store/dynamo_uow.py); reads are one call each.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from ..domain import adoptions as domain
from . import cursor as cursors
from .access import on
from .failures import Unavailable, raise_unavailable
from .models import Account
from .stock import Stock
from .trees import Adoption
from .tx import Tx, connection

_NUMBERS = ("points_price", "annual_uptake_mg", "accrued_mg", "accrual_shard")


@contextmanager
def translated() -> Iterator[None]:
    """PynamoDB's and botocore's failures as store/failures.py's (a ValidationException stays: our bug)."""
    try:
        yield
    except PynamoDBException as exc:
        if isinstance(exc.cause, (BotoCoreError, ClientError)):
            raise_unavailable(exc.cause)
        raise Unavailable() from exc
    except (BotoCoreError, ClientError) as exc:
        raise_unavailable(exc)


def adoption_of(item: Adoption) -> domain.Adoption:
    values = {f.name: getattr(item, f.name) for f in fields(domain.Adoption)}
    for name in _NUMBERS:
        values[name] = None if values[name] is None else int(values[name])
    return domain.Adoption(**values)


class Adoptions:
    ACCESS = (
        on(Adoption, "BatchGetItem", "PutItem", "UpdateItem"),
        on(Adoption, "Query", index="accruing"),
        on(Adoption, "Query", index="by_user"),
    )

    def stage_new(self, tx: Tx, label: str, adoption: domain.Adoption) -> None:
        """The adoption under its certificate number, refused if the number is taken."""
        tx.put(label, Adoption(**asdict(adoption)), condition=Adoption.adoption_id.does_not_exist())

    def stage_advance(self, tx: Tx, label: str, read: domain.Adoption, to: domain.Adoption) -> None:
        """`to`'s accrual state, provided the adoption is still credited through what was read."""
        actions = [Adoption.accrued_through.set(to.accrued_through), Adoption.updated_at.set(to.updated_at),
                   Adoption.accrued_mg.set(to.accrued_mg)]
        if to.accrual_shard is None:
            actions.append(Adoption.accrual_shard.remove())  # leaves the sparse `accruing` index
        tx.update(label, Adoption(read.adoption_id), actions,
                  condition=Adoption.accrued_through == read.accrued_through)

    def of_user(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[domain.Adoption], str | None]:
        """A page of the user's adoptions, newest first (one Query of the by_user index)."""
        context = f"trees|{user_id}"
        start = cursors.decode(cursor, context)
        with translated():
            found = Adoption.by_user.query(user_id, scan_index_forward=False, limit=limit,
                                               last_evaluated_key=start)
            page = [adoption_of(item) for item in found]
        return page, cursors.encode(found.last_evaluated_key, context)

    def accruing(self, shard: int, before_day: str, limit: int, cursor: dict | None) -> tuple[list[str], dict | None]:
        """One page of a shard's adoptions still accruing, adopted before `before_day` (the sparse index)."""
        with translated():
            page = Adoption.accruing.query(shard, Adoption.adopted_day < before_day, limit=limit,
                                               last_evaluated_key=cursor)
            ids = [item.adoption_id for item in page]
        return ids, page.last_evaluated_key

    def get_many(self, adoption_ids: list[str]) -> list[domain.Adoption]:
        """The adoptions, read consistently (one BatchGetItem per 100)."""
        with translated():
            return [adoption_of(item) for item in Adoption.batch_get(adoption_ids, consistent_read=True)]

    def retire(self, adoption_ids: list[str]) -> None:
        """Out of the accruing index for good (an erased account accrues nothing more)."""
        with translated():
            for adoption_id in adoption_ids:
                Adoption(adoption_id).update(actions=[Adoption.accrual_shard.remove()],
                                                 condition=Adoption.adoption_id.exists())

    @staticmethod
    def warm() -> None:
        """PynamoDB builds its botocore clients lazily without a lock: build them before threads use them."""
        _ = Account._get_connection().connection.client, connection().client


class TreeStock:
    ACCESS = (on(Stock, "BatchGetItem"),)

    def left(self, stock_keys: list[str]) -> dict[str, int]:
        """How many of each are left (one BatchGetItem)."""
        if not stock_keys:
            return {}
        with translated():
            return {item.item: int(item.left) for item in Stock.batch_get(stock_keys)}
