"""GET /v1/me/export: everything held about the caller, as one JSON document (PIPL's right of access and
portability; the mini program offers it as a download).

    route (api/privacy.py) -> export -> store/repositories_export.HeldReads -> HeldData -> api/shapes_export.py

Not one DynamoDB call like the other reads: a bounded set of key-addressed reads, each on the caller's own
keys, never a scan: the account and the WeChat identity (GetItem each), the consents (one Query), the
ledger (a Query paged to its end, 1 MB a page), the monthly summaries, the redemptions and the adoptions
(one Query of each `by_user` index, paged). A ledger of 10,000 entries is about 3 MB of JSON and ten pages;
the answer must stay under Lambda's 6 MB response limit (about 18,000 entries), beyond which the export
would be written to a file by a job instead (docs/privacy.md).

Kept out: secrets (the sealed session key and unionid, sealed addresses), and anything that is not the
caller's. Delivery addresses appear masked as the user saw them; a phone number appears only as the
partner's reference, never in the clear (it is never stored).
"""
from __future__ import annotations

from typing import Any

from ..domain import clock
from ..domain.platforms import platform_of
from ..domain.results_export import HeldData
from . import catalog, partners, profile


def export(user_id: str, held: Any) -> HeldData:
    """`held`: store/repositories_export.HeldReads. A deleted account's token is refused by the first read (401)."""
    account = profile.account(user_id)
    now = clock.now()
    login = held.login(account.identity_key)
    consents = partners.export(user_id)
    ledger = held.ledger(user_id)
    months = held.months(user_id)
    redemptions = held.redemptions(user_id)
    adoptions = held.adoptions(user_id)
    return HeldData(account, login, consents, ledger, months, redemptions, adoptions,
                    _merchant_names(ledger, redemptions, platform_of(account)), now)


def _merchant_names(ledger: list, redemptions: list, platform: str) -> dict[str, str | None]:
    """The names the caller's platform's catalog gives the merchants the export names (its redemptions' and
    collection points'; a user of P dealt with P's merchants only). The catalog is read only if it names one."""
    named = {line.inputs.get("merchant_id") or line.ref for line in ledger if line.source == "operator" and line.inputs}
    named |= {redemption.merchant_id for redemption in redemptions}
    merchants = catalog.merchants(platform) if named else {}
    return {merchant_id: (merchants.get(merchant_id) or {}).get("name") for merchant_id in named}
