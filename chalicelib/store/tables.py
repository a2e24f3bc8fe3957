"""Every table the app uses, for init-db, the infrastructure template and the tests.

A feature that adds a model in its own module under store/ lists it here.
"""
from __future__ import annotations

from pynamodb.models import Model

from .aggregates import AGGREGATE_MODELS
from .issuance import IssuanceRecord
from .link_codes import LinkCode
from .market import MARKET_MODELS
from .models import Account, AuditRecord, BehaviorMonth, CatalogItem, IdempotencyRecord, Identity, LedgerEntry
from .nudges import Nudge
from .partners import PARTNER_MODELS
from .photo_hashes import PhotoHash
from .privacy import PRIVACY_MODELS
from .revocations import Revocation
from .stock import Stock
from .transparency import RootRecord
from .trees import Adoption

ALL_MODELS: tuple[type[Model], ...] = (
    Account, Identity, LedgerEntry, IdempotencyRecord, CatalogItem, AuditRecord, BehaviorMonth,
    IssuanceRecord,
    *PARTNER_MODELS,
    LinkCode,  # the open protocol's link codes: store/link_codes.py
    Stock,  # goods and trees: store/stock.py
    *MARKET_MODELS,
    Adoption,
    *AGGREGATE_MODELS,  # boards, org totals and stats: store/aggregates.py
    *PRIVACY_MODELS,  # account shards, erasures, nickname moderation: store/privacy.py
    Revocation,  # deleted and frozen accounts whose tokens are refused: store/revocations.py
    PhotoHash,  # evidence photos' perceptual hashes and used uploads: store/photo_hashes.py
    Nudge,  # subscribe-message allowances, sent markers, receipts queued, stats: store/nudges.py
    RootRecord,  # the transparency record's daily and shard roots, written once: store/transparency.py
)
