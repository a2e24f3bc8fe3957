"""The marketplace's pure rules: goods as the catalog defines them, codes, validity (delivery addresses:
domain/addresses.py).

No I/O here. The catalog loader and the request paths build `Goods` with the same checks, so a goods
item that reaches a request was valid when it was loaded.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from . import clock, ids
from .addresses import mask_address
from .methodology import RuleError, parse_quantity
from .platforms import DEFAULT, scoped
from .values import immutable

KINDS = ("coupon", "physical", "experience")
GOODS_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CATEGORY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_PRICE = 10_000_000
MAX_STOCK = 100_000_000
MAX_STOCK_SHARDS = 32  # sub-items of one goods' stock (store/stock.py); 8 carry 2,000 redemptions a second
MAX_VALID_DAYS = 3650

REDEMPTION_CODE_LENGTH = 16  # 80 random bits (api.md: at least 12 characters and 60 bits)
MEMBER_CODE_LENGTH = 12  # 60 random bits, alive 5 minutes (api.md: at least 10 characters)
MEMBER_CODE_TTL = timedelta(minutes=5)
# QR payloads use only QR "alphanumeric mode" characters (0-9, A-Z, ':'), which gives the smallest symbol.
REDEMPTION_QR_PREFIX = "GS:R:"
MEMBER_QR_PREFIX = "GS:M:"
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
# A collection point's ceilings on operator credits (operations.md), per behaviour and business day, in the
# behaviour's unit: what one staff member may credit (to anyone), and the merchant as a whole.
CREDIT_CEILINGS = {"staff": ("daily_staff_quantity_max", Decimal(200)),
                   "merchant": ("daily_quantity_max", Decimal(2000))}


class GoodsError(ValueError):
    """A catalog goods entry that cannot be sold (missing or out-of-range field)."""


@immutable
class Goods:
    """One goods item of the catalog. Prices and limits come from here, never from the client."""

    id: str
    name: str
    kind: str
    merchant_id: str
    points_price: int
    stock: int
    valid_days: int
    per_user_limit: int | None = None
    cancellable: bool = False
    refund_on_expiry: bool = False
    category: str = "other"
    description: str = ""
    active: bool = True
    stock_shards: int = 1
    platform: str = DEFAULT  # the platform whose catalog sells it (its partition, not a field of the entry)

    @property
    def stock_key(self) -> str:
        """The stock item of shard 0, the only one of a goods with one shard."""
        return stock_key(self.id, 0, self.platform)

    @property
    def stock_keys(self) -> list[str]:
        """Every stock sub-item of the goods, shard 0 first."""
        return [stock_key(self.id, shard, self.platform) for shard in range(self.stock_shards)]

    @property
    def scoped_id(self) -> str:
        """The goods id within the deployment: its id on `default`, "P#{id}" on P (two platforms may both sell a
        goods "g-1"); what a container's memory of stock is keyed by (services/stock_memory.py)."""
        return scoped(self.platform, self.id)

    def to_catalog(self) -> dict:
        data = {"id": self.id, "name": self.name, "kind": self.kind, "merchant_id": self.merchant_id,
                "points_price": self.points_price, "stock": self.stock, "valid_days": self.valid_days,
                "per_user_limit": self.per_user_limit, "cancellable": self.cancellable,
                "refund_on_expiry": self.refund_on_expiry, "category": self.category,
                "description": self.description, "active": self.active}
        if self.stock_shards != 1:  # one shard is the default: such goods are stored as they always were
            data["stock_shards"] = self.stock_shards
        return data


def stock_key(goods_id: str, shard: int | None = 0, platform: str | None = DEFAULT) -> str:
    """The goods' stock item of `shard` in store/stock.py: shard 0 (or None: a redemption of goods with one
    shard) is "goods#{id}", the item every goods has; shard n > 0 is "goods#{id}#{n}". A goods of another
    platform P than `default` (None: a redemption of `default`'s) has "P#goods#{id}" and "P#goods#{id}#{n}"."""
    return scoped(platform or DEFAULT, f"goods#{goods_id}" if not shard else f"goods#{goods_id}#{shard}")


def shard_order(goods: Goods, user_id: str, request_id: str) -> list[int]:
    """The order in which one request tries the goods' stock shards: it starts at a shard fixed by the
    caller and the request_id (a retry of the request goes where the first try went; people spread evenly
    over the shards) and goes round."""
    count = goods.stock_shards
    if count == 1:
        return [0]
    start = int.from_bytes(hashlib.sha256(f"{user_id}#{request_id}".encode()).digest()[:8], "big") % count
    return [(start + step) % count for step in range(count)]


def goods_from_catalog(entry: object, platform: str = DEFAULT) -> Goods:
    """A Goods of `platform` from a catalog file's entry (operations.md), every field checked."""
    if not isinstance(entry, dict):
        raise GoodsError(f"a goods entry is an object, got {entry!r}")
    label = f"goods {entry.get('id', '?')!r}"
    goods_id = entry.get("id")
    if not isinstance(goods_id, str) or not GOODS_ID.fullmatch(goods_id):
        raise GoodsError(f"{label}: id must be 1 to 64 of a-z, 0-9, '_' or '-'")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise GoodsError(f"{label}: kind must be one of {', '.join(KINDS)}")
    category = entry.get("category", kind)
    if not isinstance(category, str) or not CATEGORY.fullmatch(category):
        raise GoodsError(f"{label}: category must be a short lower-case code")
    limit = entry.get("per_user_limit")
    return Goods(
        id=goods_id, name=_text(entry.get("name"), label, "name", 1, 60), kind=kind,
        merchant_id=_text(entry.get("merchant_id"), label, "merchant_id", 1, 64),
        points_price=_integer(entry.get("points_price"), label, "points_price", 1, MAX_PRICE),
        stock=_integer(entry.get("stock"), label, "stock", 0, MAX_STOCK),
        valid_days=_integer(entry.get("valid_days"), label, "valid_days", 1, MAX_VALID_DAYS),
        per_user_limit=None if limit is None else _integer(limit, label, "per_user_limit", 1, 1000),
        cancellable=_flag(entry, "cancellable", False, label),
        refund_on_expiry=_flag(entry, "refund_on_expiry", False, label),
        category=category,
        description=_text(entry.get("description", ""), label, "description", 0, 500),
        active=_flag(entry, "active", True, label),
        stock_shards=_integer(entry.get("stock_shards", 1), label, "stock_shards", 1, MAX_STOCK_SHARDS),
        platform=platform,
    )


def _text(value: object, label: str, name: str, low: int, high: int) -> str:
    if not isinstance(value, str) or not low <= len(value.strip()) <= high:
        raise GoodsError(f"{label}: {name} must be text of {low} to {high} characters")
    return value.strip()


def _integer(value: object, label: str, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GoodsError(f"{label}: {name} must be a whole number from {low} to {high}")
    return value


def _flag(entry: dict, name: str, default: bool, label: str) -> bool:
    value = entry.get(name, default)
    if not isinstance(value, bool):
        raise GoodsError(f"{label}: {name} must be true or false")
    return value


# --- validity -------------------------------------------------------------------------------------------


class MerchantError(ValueError):
    """A catalog merchant entry with a field out of range."""


def credit_ceilings(merchant: dict) -> dict[str, Decimal]:
    """{"staff": ..., "merchant": ...}: the merchant's own ceilings, or the defaults where it sets none."""
    ceilings = {}
    for cap, (name, default) in CREDIT_CEILINGS.items():
        raw = merchant.get(name)
        try:
            ceilings[cap] = default if raw is None else parse_quantity(raw)
        except RuleError as exc:
            raise MerchantError(f"merchant {merchant.get('id')}: {name} must be a positive number with at most "
                                f"3 decimals: {raw!r}") from exc
    return ceilings


def expires_at(redeemed: datetime, valid_days: int) -> datetime:
    """Valid on the day of redemption and the following `valid_days - 1` business days: the code
    expires at the Shanghai midnight that ends the last of them."""
    last_day = clock.business_day(redeemed) + timedelta(days=valid_days - 1)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=clock.SHANGHAI)


# --- codes ----------------------------------------------------------------------------------------------


def redemption_code() -> str:
    return ids.random_code(REDEMPTION_CODE_LENGTH)


def member_code() -> str:
    return ids.random_code(MEMBER_CODE_LENGTH)


def normalize_code(raw: object, prefix: str, length: int) -> str | None:
    """What a scanner or a person typed, as the stored code; None when it cannot be one.

    Accepts the QR payload or the bare code, in any case, with spaces or dashes, and reads Crockford's
    look-alikes (I and L as 1, O as 0) the way the alphabet intends.
    """
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    text = raw.strip().upper()
    if text.startswith(prefix):
        text = text[len(prefix):]
    text = text.replace("-", "").replace(" ", "").translate(_LOOK_ALIKES)
    if len(text) != length or any(ch not in ids.ALPHABET for ch in text):
        return None
    return text


@dataclass
class Redemption:
    """A redemption as issued (store/market.py Redemption states the table). `address` is the plain delivery
    address, held only in memory: the store seals it (bound to the redemption id) and keeps it masked."""

    redemption_id: str
    user_id: str
    goods_id: str
    goods_name: str
    kind: str
    merchant_id: str
    code: str
    status: str
    points_spent: int
    created_at: str
    expires_at: str
    expires_epoch: int
    cancellable: bool = False
    refund_on_expiry: bool = False
    per_user_limit: int | None = None
    request_id: str | None = None
    address: dict | None = field(default=None, compare=False, repr=False)  # personal data: never logged
    address_masked: dict | None = None
    used_at: str | None = None
    cancelled_at: str | None = None
    expired_at: str | None = None
    refunded: bool = False
    stock_shard: int | None = None  # the stock sub-item the unit came from; None: the goods had one shard
    platform: str | None = None  # the platform whose goods it is; None: `default`'s (stored absent, as before)


def effective_status(redemption: Redemption, now: datetime) -> str:
    """An issued code past its expiry is expired, whether or not the expiry job has run yet (a domain
    redemption or the stored model: they share these attributes)."""
    if redemption.status == "issued" and now.timestamp() >= int(redemption.expires_epoch):
        return "expired"
    return redemption.status


def issue(user_id: str, goods: Goods, address: dict | None, request_id: str, now: datetime,
          stock_shard: int = 0) -> Redemption:
    """A new redemption of `goods`, with a fresh id and code, valid `goods.valid_days` business days, of one
    unit taken from `stock_shard` (recorded when the goods has more than one: a refund gives it back there)."""
    expires = expires_at(now, goods.valid_days)
    return Redemption(
        ids.sortable_id(clock.epoch_ms(now)), user_id=user_id, goods_id=goods.id, goods_name=goods.name,
        kind=goods.kind, merchant_id=goods.merchant_id, code=redemption_code(), status="issued",
        points_spent=goods.points_price, created_at=clock.iso(now), expires_at=clock.iso(expires),
        expires_epoch=int(expires.timestamp()), cancellable=goods.cancellable,
        refund_on_expiry=goods.refund_on_expiry, per_user_limit=goods.per_user_limit, request_id=request_id,
        address=address, address_masked=mask_address(address) if address else None,
        stock_shard=stock_shard if goods.stock_shards > 1 else None,
        platform=None if goods.platform == DEFAULT else goods.platform)
