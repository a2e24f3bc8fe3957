"""The marketplace's pure rules: goods entries, validity, codes and delivery addresses (no database)."""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.domain import addresses, clock, ids
from chalicelib.domain import market as rules

GOODS = {"id": "g-coffee", "name": "咖啡券", "kind": "coupon", "merchant_id": "m-cafe", "points_price": 100,
         "stock": 50, "per_user_limit": 2, "valid_days": 30, "cancellable": True, "refund_on_expiry": False}
ADDRESS = {"name": "李四", "phone": "13912345678", "region": "四川省泸州市龙马潭区", "detail": "春雨路12号"}


def test_a_catalog_goods_entry_becomes_goods_with_defaults():
    goods = rules.goods_from_catalog(GOODS)
    assert (goods.points_price, goods.per_user_limit, goods.category, goods.active) == (100, 2, "coupon", True)
    assert goods.stock_key == "goods#g-coffee"
    assert rules.goods_from_catalog(goods.to_catalog()) == goods


@pytest.mark.parametrize("field, value", [
    ("kind", "voucher"), ("points_price", 0), ("points_price", 1.5), ("points_price", True), ("stock", -1),
    ("valid_days", 0), ("per_user_limit", 0), ("cancellable", "yes"), ("id", "G Coffee"), ("name", ""),
    ("merchant_id", None),
])
def test_a_bad_goods_field_is_refused_by_name(field, value):
    with pytest.raises(rules.GoodsError, match=field):
        rules.goods_from_catalog({**GOODS, field: value})


def test_a_code_is_valid_through_the_last_of_its_valid_days_in_shanghai():
    late_evening = datetime(2026, 11, 23, 23, 50, tzinfo=clock.SHANGHAI)
    assert clock.iso(rules.expires_at(late_evening, 1)) == "2026-11-24T00:00:00+08:00"
    assert clock.iso(rules.expires_at(late_evening, 30)) == "2026-12-23T00:00:00+08:00"


def test_codes_are_long_random_and_from_the_unambiguous_alphabet():
    codes = {rules.redemption_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 16 and set(c) <= set(ids.ALPHABET) for c in codes)
    assert not set("ILOU") & set("".join(codes))
    assert len(rules.member_code()) >= 10


@pytest.mark.parametrize("typed", ["GS:R:ABCD1234EFGH5678", "abcd-1234-efgh-5678", " ABCD 1234 EFGH 5678 ",
                                   "gs:r:abcd1234efgh5678"])
def test_a_scanned_or_typed_code_reads_as_the_stored_one(typed):
    assert rules.normalize_code(typed, rules.REDEMPTION_QR_PREFIX, 16) == "ABCD1234EFGH5678"


def test_look_alike_letters_read_as_the_digits_they_resemble():
    assert rules.normalize_code("0o1Il1ABCDEFGHJK", rules.REDEMPTION_QR_PREFIX, 16) == "001111ABCDEFGHJK"


@pytest.mark.parametrize("typed", ["", "SHORT", "ABCD1234EFGH567U", "ABCD1234EFGH56789", None, 42, "x" * 100])
def test_anything_else_is_no_code(typed):
    assert rules.normalize_code(typed, rules.REDEMPTION_QR_PREFIX, 16) is None


def test_an_address_is_cleaned_and_masked():
    address = addresses.clean_address({**ADDRESS, "name": " 李四 ", "extra": "ignored"})
    assert address == ADDRESS
    assert addresses.mask_address(address) == {"name": "李*", "phone": "139****5678", "region": "四川省泸州市龙马潭区",
                                           "detail": "春雨路1****"}


@pytest.mark.parametrize("field, value", [
    ("phone", "23912345678"), ("phone", "1391234567"), ("phone", 13912345678), ("name", ""),
    ("detail", "x"), ("region", "x" * 41), ("name", "李\u0000四"),
])
def test_a_bad_address_names_the_field(field, value):
    with pytest.raises(addresses.AddressError) as caught:
        addresses.clean_address({**ADDRESS, field: value})
    assert caught.value.field == f"address.{field}"


def test_physical_goods_without_an_address_are_refused():
    with pytest.raises(addresses.AddressError) as caught:
        addresses.clean_address(None)
    assert caught.value.field == "address"
