"""The ledger as it is read: the stored entry as the domain's LedgerLine (writes are store/repositories.Ledger's,
inside a posting)."""
from __future__ import annotations

from ..domain.posting import LedgerLine
from .models import LedgerEntry

_FIELDS = tuple(LedgerLine.__dataclass_fields__)


def line(entry: LedgerEntry) -> LedgerLine:
    """A stored entry, read by PynamoDB, as the domain's."""
    values = entry.attribute_values
    return LedgerLine(**{name: values.get(name) for name in _FIELDS})
