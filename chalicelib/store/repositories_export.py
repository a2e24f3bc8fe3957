"""What an export reads (services/export.py), each on the person's own keys and never a scan: the WeChat
identity (GetItem), the whole ledger (a Query paged to its end), the month summaries, the redemptions and the
adoptions (one Query of each `by_user` index, paged). Values come back as the domain's."""
from __future__ import annotations

from ..domain.adoptions import Adoption as HeldAdoption
from ..domain.market import Redemption as HeldRedemption
from ..domain.posting import LedgerLine
from ..domain.results_export import Login
from ..domain.results_ledger import MonthRow
from .access import on
from .market import Redemption
from .models import Identity, LedgerEntry
from .repositories_ledger import LedgerReads, line
from .repositories_market import redemption
from .repositories_trees import adoption_of
from .trees import Adoption


class HeldReads:
    ACCESS = (
        on(Adoption, "Query", index="by_user"),
        on(Identity, "GetItem"),
        on(LedgerEntry, "Query"),
        on(Redemption, "Query", index="by_user"),
        LedgerReads,
    )

    def login(self, identity_key: str | None) -> Login | None:
        if not identity_key:
            return None
        try:
            identity = Identity.get(identity_key)
        except Identity.DoesNotExist:
            return None
        return Login(bool(identity.unionid_sealed), identity.created_at, identity.last_login_at)

    def ledger(self, user_id: str) -> list[LedgerLine]:
        return [line(entry) for entry in LedgerEntry.query(user_id, scan_index_forward=False)]

    def months(self, user_id: str) -> list[MonthRow]:
        return LedgerReads().months(user_id, "")

    def redemptions(self, user_id: str) -> list[HeldRedemption]:
        return [redemption(r) for r in Redemption.by_user.query(user_id, scan_index_forward=False)]

    def adoptions(self, user_id: str) -> list[HeldAdoption]:
        return [adoption_of(a) for a in Adoption.by_user.query(user_id, scan_index_forward=False)]
