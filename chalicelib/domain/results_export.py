"""What GET /v1/me/export gathers (services/export.py): everything held about one person; its JSON is
api/shapes_export.py's."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .adoptions import Adoption
from .consents import Consent
from .market import Redemption
from .posting import LedgerLine
from .results_ledger import MonthRow
from .values import immutable


@immutable
class Login:
    """What the WeChat identity says about the person (never its sealed unionid or session key)."""

    unionid_kept: bool
    first_login_at: str | None
    last_login_at: str | None


@immutable
class HeldData:
    account: Any  # the account as read (store/models.Account)
    login: Login | None  # None: no identity (deleted, or never linked)
    consents: list[Consent]  # services/partners.export's
    ledger: list[LedgerLine]  # newest first, with inputs, day and reason
    months: list[MonthRow]
    redemptions: list[Redemption]  # newest first
    adoptions: list[Adoption]  # newest first
    merchant_names: dict[str, str | None]  # of the redemptions' merchants and the crediting collection points
    at: datetime
