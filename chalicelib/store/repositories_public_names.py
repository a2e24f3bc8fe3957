"""The DynamoDB repositories of public names (services/public_names.py): what may be shown of people on boards,
the schools' minor marks on accounts, and the markers that make boards be rebuilt.

Split by who uses what (each Lambda function is granted what the classes it names declare, store/access.py):
the boards read `ShownNames` only.
"""
from __future__ import annotations

from ..domain.platforms import DEFAULT
from . import board_marks
from .access import on
from .aggregates import Total
from .fold_store import tally_of
from .models import Account
from .single_writes import written


class ShownNames:
    ACCESS = (on(Account, "BatchGetItem"),)

    def accounts(self, user_ids: list[str]) -> dict[str, Account]:
        """The accounts found, with only what a public name needs (one BatchGetItem per 100)."""
        fields = ["user_id", "nickname", "minor_orgs", "deleted_at"]
        return {a.user_id: a for a in Account.batch_get(user_ids, attributes_to_get=fields)} if user_ids else {}


class MinorMarks:
    ACCESS = (on(Account, "GetItem", "UpdateItem"),)

    def get(self, user_id: str) -> Account | None:
        """The account read consistently; None when there is none."""
        try:
            return Account.get(user_id, consistent_read=True)
        except Account.DoesNotExist:
            return None

    def set(self, user_id: str, current: list[str] | None, wanted: list[str], at: str) -> bool:
        """The schools that marked the account a minor become `wanted`, provided they are still `current`
        (None: never marked) and the account exists; False when another school changed them meanwhile."""
        unchanged = Account.minor_orgs.does_not_exist() if current is None else Account.minor_orgs == current
        account = Account(user_id)
        return written(lambda: account.update(
            actions=[Account.minor_orgs.set(wanted) if wanted else Account.minor_orgs.remove(),
                     Account.updated_at.set(at)],
            condition=Account.user_id.exists() & unchanged))


class BoardMarks:
    ACCESS = (board_marks.mark, on(Total, "Query"))

    def boards_of(self, user_id: str, org_ids: list[str], platform: str = DEFAULT) -> set[tuple[str, str]]:
        """(board, period) of every board the person is counted on, from their own totals: their tally and its
        archives (one Query), which name the boards of the user's platform ("users", "org-{id}"; P's "P#users",
        "P#org-{id}"), and for a user of `default` the legacy per-board totals (one Query each; the legacy layout
        predates platforms: a user of P has none)."""
        boards = set()
        for item in Total.query(f"u#{user_id}"):
            if item.period == "live":
                tally = tally_of(item)
                boards |= {(board, period) for board in tally.boards for period in tally.periods()
                           if tally.value(board, period)}
            elif item.boards is not None:
                boards |= {(board, item.period) for board, value in item.boards.items() if value}
            else:
                boards.add(("users", item.period))
        for org_id in org_ids if platform == DEFAULT else ():
            boards |= {(f"org-{org_id}", total.period) for total in Total.query(f"m#{org_id}#{user_id}")}
        return boards

    def mark(self, shard: int, boards: set[tuple[str, str]]) -> None:
        """Marks the boards to be rebuilt, in the marker partitions of `shard`, then flags those partitions
        (store/board_marks.mark)."""
        board_marks.mark(shard, boards)
