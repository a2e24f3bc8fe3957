"""Delivery addresses of physical goods: what a redemption accepts, and what the user sees of it again. Pure."""
from __future__ import annotations

import re
import unicodedata

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
ADDRESS_FIELDS = {"name": (1, 20), "phone": (11, 11), "region": (2, 40), "detail": (4, 120)}


class AddressError(ValueError):
    """`field` at fault, the Chinese message, and the rule broken (`details` of the VALIDATION_ERROR)."""

    def __init__(self, field: str, message: str, **rule: object) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule


def clean_address(raw: object) -> dict:
    """A delivery address: recipient name, mainland mobile number, region and street detail."""
    if not isinstance(raw, dict):
        raise AddressError("address", "实物商品须填写收货地址", reason="missing" if raw is None else "type",
                           expected=["object"], rule="address is required for physical goods: an object "
                                                     "{name, phone, region, detail} of strings")
    address = {}
    for name, (low, high) in ADDRESS_FIELDS.items():
        value = raw.get(name)
        lengths = {"min_length": low, "max_length": high}
        if not isinstance(value, str):
            raise AddressError(f"address.{name}", "收货地址不完整", reason="missing" if value is None else "type",
                               expected=["string"], **lengths, rule=f"address.{name}: a string of {low} to {high} "
                                                                    "characters")
        value = unicodedata.normalize("NFC", value).strip()
        if not low <= len(value) <= high or any(unicodedata.category(ch)[0] == "C" for ch in value):
            raise AddressError(f"address.{name}", f"收货地址的 {name} 须为 {low} 到 {high} 个字", reason="length",
                               **lengths, rule=f"address.{name}: {low} to {high} characters once trimmed, "
                                               "no control characters")
        address[name] = value
    if not PHONE.fullmatch(address["phone"]):
        raise AddressError("address.phone", "手机号须为 11 位中国大陆手机号", reason="pattern", pattern=PHONE.pattern,
                           rule="address.phone: an 11-digit mainland mobile number, 1[3-9] then 9 digits")
    return address


def mask_address(address: dict) -> dict:
    """What the user sees again of their address: enough to recognise it, not enough to use it."""
    name, phone, detail = address["name"], address["phone"], address["detail"]
    return {"name": name[0] + "*" * min(len(name) - 1, 2) if len(name) > 1 else "*",
            "phone": phone[:3] + "****" + phone[-4:], "region": address["region"],
            "detail": detail[:4] + "****"}
