"""The conditions of the saplings' postings (domain/guards.py says what a guard is).

- adopting: the tree's stock (`StockAvailable`, domain/guards.py) and `AdoptionRecorded`;
- accrual: `AdoptionAdvanced`, one per adoption credited.
"""
from __future__ import annotations

from .adoptions import Adoption
from .guards import Guard
from .values import immutable


@immutable
class AdoptionRecorded(Guard):
    """The adoption is new under its certificate number (`attribute_not_exists`). Refusing: the number is
    someone's already (about once in a trillion), and the use case draws another."""

    adoption: Adoption


@immutable
class AdoptionAdvanced(Guard):
    """The adoption becomes `to`, provided it is still credited through `read.accrued_through`: a day run
    twice, or by two workers at once, is credited once."""

    read: Adoption
    to: Adoption
