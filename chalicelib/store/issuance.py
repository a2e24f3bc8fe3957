"""Issuance records: which business days' reductions were issued to a carbon exchange, and in which files; and
the marker of every issued ledger entry, so that no reduction is issued by two scopes (admin/issuance.py).

Only the admin console (`python -m admin issuance`) reads and writes this table; Lambda never does.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..domain.platforms import DEFAULT
from .models import table_meta

REGISTRY = "carbon-inclusion"  # `default`'s registry, as before platforms (its records keep their meaning)
HEAD = "#head"  # sorts before every period ("#" < "0")
ISSUING, ISSUED = "issuing", "issued"


def registry_of(scope: str) -> str:
    """`default` -> "carbon-inclusion"; platform P -> "carbon-inclusion#P"; every platform -> "carbon-inclusion#all"."""
    return REGISTRY if scope == DEFAULT else f"{REGISTRY}#{scope}"


def issuance_id(registry: str, period: str) -> str:
    """The id a marker names its issuance by: "{registry}/{period}" (a period alone repeats across scopes)."""
    return f"{registry}/{period}"


class IssuanceRecord(Model):
    """issuances — pk `registry` (`registry_of(scope)`: one small partition a scope), sk `period` = "{from}..{to}".

    Periods are ISO business days, so the records sort by their first day. The item with sk "#head"
    holds `version`: an issuance writes its record (`attribute_not_exists`) and bumps the head
    (`version` unchanged) in one transaction, so of two runs that read the same records only one can
    issue; the other re-reads, and refuses when the winner's period overlaps its own.

    A record is written with `state` "issuing" before any marker, and set to "issued" with its totals and files
    once every entry is marked; `attempt` names the run that may finish it. A record without `scope` was written
    before platforms: it issued every entry of its days, whatever the platform, and put no markers.
    """

    Meta = table_meta("issuances")
    registry = UnicodeAttribute(hash_key=True)
    period = UnicodeAttribute(range_key=True)
    version = NumberAttribute(null=True)  # the head only
    first_day = UnicodeAttribute(null=True)
    last_day = UnicodeAttribute(null=True)
    issued_at = UnicodeAttribute(null=True)
    operator = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    entries = NumberAttribute(null=True)
    carbon_mg = NumberAttribute(null=True)
    totals = JSONAttribute(null=True)  # [{"methodology_id", "version", "entries", "carbon_mg"}]
    files = JSONAttribute(null=True)  # {"summary": {"path", "sha256"}, "entries": {"path", "sha256", "rows"}}
    scope = UnicodeAttribute(null=True)  # "default", a platform id or "all"; absent: before platforms
    state = UnicodeAttribute(null=True)  # ISSUING, then ISSUED; absent: before platforms (issued)
    attempt = UnicodeAttribute(null=True)  # the run that holds an ISSUING record
    platforms = JSONAttribute(null=True)  # {platform: {"entries", "carbon_mg"}}, what each platform's users held


class IssuedEntry(Model):
    """issuances — the marker of an issued ledger entry: pk `registry` = "entry#{user_id}", sk `period` =
    `{entry_id}` (the ledger's key; one Get or BatchGet by key, never a scan), `issuance` = the issuance id
    (`issuance_id`). Put by the console with `attribute_not_exists OR issuance = :mine`: the first issuance of
    any scope that marks an entry issues it, and no other ever does."""

    Meta = table_meta("issuances")
    user_key = UnicodeAttribute(hash_key=True, attr_name="registry")
    entry_id = UnicodeAttribute(range_key=True, attr_name="period")
    issuance = UnicodeAttribute()
    marked_at = UnicodeAttribute(null=True)

    @staticmethod
    def key_of(user_id: str, entry_id: str) -> tuple[str, str]:
        return f"entry#{user_id}", entry_id
