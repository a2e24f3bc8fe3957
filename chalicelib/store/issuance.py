"""Issuance records: which business days' reductions were issued to a carbon exchange, and in which files.

Only the admin console (`python -m admin issuance`) reads and writes this table; Lambda never does.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .models import table_meta

REGISTRY = "carbon-inclusion"
HEAD = "#head"  # sorts before every period ("#" < "0")


class IssuanceRecord(Model):
    """issuances — pk `registry` ("carbon-inclusion": one small partition), sk `period` = "{from}..{to}".

    Periods are ISO business days, so the records sort by their first day. The item with sk "#head"
    holds `version`: an issuance writes its record (`attribute_not_exists`) and bumps the head
    (`version` unchanged) in one transaction, so of two runs that read the same records only one can
    issue; the other re-reads, and refuses when the winner's period overlaps its own.
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
