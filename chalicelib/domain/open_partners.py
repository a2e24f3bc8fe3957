"""Partners of the open protocol (shared/partners/open-protocol.md): a partner is its catalog entry. Pure functions.

An entry names the event types the partner may send, the behaviour each earns (a behaviour of the channel
`partner`), the event field holding the quantity and a plausibility ceiling for one event. `check_entry` is what
`python -m admin load` accepts; `parse_event` turns one pushed event into a `PartnerEvent` (None: ignored).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from urllib.parse import urlsplit

from .methodology import QUANTITY_SCALE, plain
from .partner_events import PartnerEvent, moment_of, text_of
from .readings import SAME_MONTH_LAST_YEAR, Reading, acceptable, month_of, revision_of
from .values import immutable

PROTOCOL = "open-v1"
CHANNEL = "partner"  # the channel of every behaviour an open-protocol partner's events earn
ID = re.compile(r"[a-z0-9-]{2,32}")
SECRET_MIN_BYTES = 32
BUILT_IN = ("transit", "bank")  # partners with their own published APIs (transit.md, bank.md), not this protocol
BASELINES = (SAME_MONTH_LAST_YEAR,)
MAX_QUANTITY = Decimal(1_000_000_000)  # past any ceiling a catalog may set: refused before quantizing
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,31}")
_RESERVED = frozenset({"event_id", "user_ref", "type", "occurred_at", "month", "revision"})


class OpenPartnerError(ValueError):
    """A catalog entry the loader refuses, with the reason."""


@immutable
class EventMapping:
    type: str
    behavior: str
    quantity: str  # the event's field holding the quantity, in the behaviour's unit
    max_quantity: Decimal
    baseline: str | None = None


@immutable
class OpenPartner:
    id: str
    name: str
    scopes: tuple[str, ...]
    events: tuple[EventMapping, ...]
    revoke_url: str | None = None

    def mapping(self, event_type: object) -> EventMapping | None:
        return next((m for m in self.events if m.type == event_type), None)


def channel_of(partner_id: str) -> str:
    """The channel a partner's events earn through: a built-in partner's own id, else `partner`."""
    return partner_id if partner_id in BUILT_IN else CHANNEL


def secret_setting(partner_id: str) -> str:
    """PARTNER_SECRET__<ID>: the id upper-cased, `-` as `_`."""
    return "PARTNER_SECRET__" + partner_id.upper().replace("-", "_")


def usable_secret(secret: str | None) -> bool:
    """At least 32 bytes; a shorter one makes the partner unknown (its calls answer BAD_SIGNATURE)."""
    return bool(secret) and len(secret.encode()) >= SECRET_MIN_BYTES


def from_catalog(data: Mapping) -> OpenPartner:
    """The stored entry (as `check_entry` returned it) as the services use it."""
    events = tuple(EventMapping(e["type"], e["behavior"], e["quantity"], Decimal(str(e["max_quantity"])),
                                e.get("baseline")) for e in data["events"])
    return OpenPartner(data["id"], data["name"], tuple(data["scopes"]), events, data.get("revoke_url"))


def check_entry(entry: object, behaviours: Mapping[str, Mapping]) -> dict:
    """The entry as stored, or OpenPartnerError. `behaviours` are the deployment's rules by code (the file's and
    the stored ones): a mapping must earn one whose `channels` include `partner`."""
    if not isinstance(entry, dict):
        raise OpenPartnerError("each partner is an object")
    pid = entry.get("id")
    if not isinstance(pid, str) or not ID.fullmatch(pid):
        raise OpenPartnerError(f"partner id {pid!r} must match [a-z0-9-]{{2,32}}")
    if pid in BUILT_IN:
        raise OpenPartnerError(f"partner {pid}: {pid} has its own API and is not configured here")
    unknown = sorted(set(entry) - {"id", "name", "protocol", "scopes", "events", "revoke_url"})
    if unknown:
        raise OpenPartnerError(f"partner {pid}: unknown fields {', '.join(unknown)}")
    if entry.get("protocol") != PROTOCOL:
        raise OpenPartnerError(f"partner {pid}: protocol must be {PROTOCOL!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise OpenPartnerError(f"partner {pid}: name must be 1 to 64 characters")
    scopes = entry.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and _FIELD.fullmatch(s) for s in scopes):
        raise OpenPartnerError(f"partner {pid}: scopes must be a list of lower-case words")
    revoke_url = entry.get("revoke_url")
    if revoke_url is not None and not _https_or_local(revoke_url):
        raise OpenPartnerError(f"partner {pid}: revoke_url must be an https URL (http only on 127.0.0.1)")
    events = entry.get("events")
    if not isinstance(events, list) or not events:
        raise OpenPartnerError(f"partner {pid}: events must list at least one event type")
    checked = [_check_mapping(pid, e, behaviours) for e in events]
    types = [m["type"] for m in checked]
    if len(set(types)) != len(types):
        raise OpenPartnerError(f"partner {pid}: an event type is listed twice")
    stored = {"id": pid, "name": name, "protocol": PROTOCOL, "scopes": list(scopes), "events": checked}
    if revoke_url is not None:
        stored["revoke_url"] = revoke_url
    return stored


def _https_or_local(url: object) -> bool:
    if not isinstance(url, str) or len(url) > 512:
        return False
    parts = urlsplit(url)
    return bool(parts.hostname) and (parts.scheme == "https" or (parts.scheme == "http" and
                                                                 parts.hostname in ("127.0.0.1", "localhost")))


def _check_mapping(pid: str, entry: object, behaviours: Mapping[str, Mapping]) -> dict:
    if not isinstance(entry, dict):
        raise OpenPartnerError(f"partner {pid}: each event mapping is an object")
    unknown = sorted(set(entry) - {"type", "behavior", "quantity", "max_quantity", "baseline"})
    if unknown:
        raise OpenPartnerError(f"partner {pid}: unknown fields of an event mapping: {', '.join(unknown)}")
    kind, code, quantity = entry.get("type"), entry.get("behavior"), entry.get("quantity")
    if not isinstance(kind, str) or not _FIELD.fullmatch(kind):
        raise OpenPartnerError(f"partner {pid}: event type {kind!r} must be a lower-case word")
    rule = behaviours.get(code) if isinstance(code, str) else None
    if rule is None:
        raise OpenPartnerError(f"partner {pid}: event {kind} earns {code!r}, which is not a behaviour")
    if CHANNEL not in (rule.get("channels") or ()):
        raise OpenPartnerError(f"partner {pid}: behaviour {code} does not have the channel {CHANNEL!r}")
    if not isinstance(quantity, str) or not _FIELD.fullmatch(quantity) or quantity in _RESERVED:
        raise OpenPartnerError(f"partner {pid}: event {kind}'s quantity must name a field of the event")
    ceiling = entry.get("max_quantity")
    if isinstance(ceiling, bool) or not isinstance(ceiling, (int, float)) or not 0 < ceiling < 1e9 \
            or not math.isfinite(ceiling):
        raise OpenPartnerError(f"partner {pid}: event {kind}'s max_quantity must be a positive number")
    stored = {"type": kind, "behavior": code, "quantity": quantity, "max_quantity": ceiling}
    baseline = entry.get("baseline")
    if baseline is not None:
        if baseline not in BASELINES:  # refused, never ignored: a partner's readings must not count as events
            raise OpenPartnerError(f"partner {pid}: event {kind}'s baseline must be one of {', '.join(BASELINES)}")
        stored["baseline"] = baseline
    return stored


def parse_event(partner: OpenPartner, raw: object) -> PartnerEvent | None:
    """One pushed event, or None when it is ignored: malformed, of a type the partner's entry does not list, or
    whose quantity is missing, not a number, negative or above the type's `max_quantity`. A reading (a mapping
    with a baseline) also needs its `month` ("YYYY-MM", ended by `occurred_at` and at most 13 months before it)
    and a `revision` that is absent (0) or a non-negative integer (domain/readings.py)."""
    if not isinstance(raw, dict):
        return None
    event_id, user_ref, occurred_at = text_of(raw, "event_id"), text_of(raw, "user_ref"), moment_of(raw, "occurred_at")
    mapping = partner.mapping(raw.get("type"))
    if not (event_id and user_ref and occurred_at and mapping):
        return None
    quantity = _quantity(raw.get(mapping.quantity))
    if quantity is None or quantity > mapping.max_quantity:
        return None
    detail = {"event_id": event_id, "type": mapping.type, "occurred_at": raw["occurred_at"],
              mapping.quantity: float(quantity) if quantity != quantity.to_integral() else int(quantity)}
    reading = None
    if mapping.baseline == SAME_MONTH_LAST_YEAR:
        month, revision = month_of(raw.get("month")), revision_of(raw.get("revision"))
        if month is None or revision is None or not acceptable(month, occurred_at):
            return None
        reading = Reading(month, revision, quantity)
    return PartnerEvent(partner.id, event_id, user_ref, mapping.behavior, quantity, occurred_at, detail, reading)


def _quantity(value: object) -> Decimal | None:
    """A finite, non-negative JSON number (never a bool or a string), as a Decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        return None
    if quantity < 0 or quantity > MAX_QUANTITY:
        return None
    return plain(quantity.quantize(QUANTITY_SCALE, rounding=ROUND_DOWN))  # 3 decimals, as every quantity

