"""The catalog's "partners" section (shared/partners/open-protocol.md, "The partner in the catalog"): partners of
the open protocol, each a catalog entry and a secret (PARTNER_SECRET__<ID>), no code.

Each entry is checked by chalicelib/domain/open_partners.check_entry against the deployment's behaviours (the
same file's `behaviors`, else the stored ones): every event type earns a behaviour of the channel `partner`. It
goes to the catalog partition "partner". A load never deletes a partner: consents and ledger entries name it.
"""
from __future__ import annotations

from chalicelib.domain.open_partners import OpenPartnerError, check_entry

from .console import CommandError


def plan_partners(entries: list):
    from .catalog_load import LOADING, existing, upserts  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("partners must be a list")
    listed = {b.get("code"): b for b in (LOADING.get() or {}).get("behaviors", []) if isinstance(b, dict)}
    rules = {**existing("behavior"), **listed}
    return upserts("partner", "partner", (_checked(entry, rules) for entry in entries))


def _checked(entry: object, rules: dict) -> dict:
    try:
        return check_entry(entry, rules)
    except OpenPartnerError as exc:
        raise CommandError(str(exc)) from exc


def partner_ids() -> tuple[str, ...]:
    """Every partner a platform of the file being loaded may list: the built-in ones, the stored open-protocol
    ones and those of the same file."""
    from chalicelib.services.partners import PARTNERS

    from .catalog_load import LOADING, existing

    listed = [p.get("id") for p in (LOADING.get() or {}).get("partners", []) if isinstance(p, dict)]
    return (*PARTNERS, *sorted({*existing("partner"), *(p for p in listed if isinstance(p, str))}))
