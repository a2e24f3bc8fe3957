"""Platforms (shared/contract/platforms.md): the tenants of one deployment, as plain rules (no I/O).

A platform is loaded from the catalog file's `platforms` section (admin/platforms_load.py) into the catalog's
`platform` partition; `default` is the top level of the catalog and is never stored: its name and branding are
the constants below, its WeChat mini program is WECHAT_APPID / WECHAT_SECRET, and its behaviours are the
top-level ones. A platform's behaviours refer to the deployment's rules by `code` and may set only `points`,
a lower `daily_limit` and `daily_points_max`: a platform never changes grams (contract rule 4).
"""
from __future__ import annotations

import re
from dataclasses import field, replace
from decimal import Decimal
from typing import Any

from .values import immutable

DEFAULT = "default"
ALL = "all"  # the console's --platform all: never a platform's id
ID = re.compile(r"[a-z0-9-]{2,32}")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_NAME = "绿芽"
DEFAULT_BRANDING = {"name": "绿芽", "slogan": "每一次低碳行动都算数", "primary_color": "#2E7D32", "logo_url": None}
BRANDING_FIELDS = ("name", "slogan", "primary_color", "logo_url")
BEHAVIOR_FIELDS = {"code", "points", "daily_limit", "daily_points_max"}
# Keys of a platform entry this version loads, and its sections loaded into the platform's own catalog partitions
# (`P#merchant`, `P#staff`, `P#goods`, `P#tree`, `P#org`, `P#policy`) by the loader with the top level's rules
# (admin/platforms_load.py); the stored platform item does not hold them.
ENTRY_FIELDS = {"id", "name", "wechat_appid", "branding", "behaviors", "partners"}
CATALOG_SECTIONS = ("merchants", "goods", "trees", "orgs")
# Objects, checked by the loader as the top level's (admin/points_load.py, admin/subscribe_templates_load.py).
POLICY_SECTIONS = ("points", "subscribe_templates")


class PlatformError(ValueError):
    """A platform entry of the catalog file that cannot be loaded; the message says which and why."""


@immutable
class Platform:
    id: str
    name: str
    branding: dict
    wechat_appid: str | None = None  # None: the default platform's, WECHAT_APPID
    behaviors: dict = field(default_factory=dict)  # code -> {"points"?, "daily_limit"?, "daily_points_max"?}
    partners: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT


def scoped(platform: str, key: str) -> str:
    """A key of `platform`'s own: the key itself for `default` (its keys are those of before platforms),
    "{platform}#{key}" for another (catalog partitions "P#goods", stock "P#goods#{id}", codes "P#{code}" ...)."""
    return key if platform == DEFAULT else f"{platform}#{key}"


def is_platform_id(value: object) -> bool:
    return isinstance(value, str) and ID.fullmatch(value) is not None


def secret_name(platform_id: str) -> str:
    """The setting holding a platform's WeChat AppSecret: `WECHAT_SECRET__<ID>`, upper-cased, `-` as `_`
    (ids are `[a-z0-9-]`, so two ids never share a name). The default platform's is WECHAT_SECRET."""
    return "WECHAT_SECRET" if platform_id == DEFAULT else "WECHAT_SECRET__" + platform_id.upper().replace("-", "_")


def platform_of(account: Any) -> str:
    """The platform an account's user is a user of: its `platform`, absent (or no account) for `default`'s."""
    return (getattr(account, "platform", None) or DEFAULT) if account is not None else DEFAULT


def identity_key(platform_id: str, openid: str) -> str:
    """The WeChat identity's key of an openid of `platform_id`'s mini program (store/logins.py): `wx#{openid}` on
    `default` (as before platforms), `wx#{platform}#{openid}` on another."""
    return f"wx#{openid}" if platform_id == DEFAULT else f"wx#{platform_id}#{openid}"


def openid_in(key: str | None, platform_id: str) -> str | None:
    """The openid an identity key of `platform_id` names (the inverse of `identity_key`); None for no key or a
    key of another platform's mini program."""
    prefix = identity_key(platform_id, "")
    return key[len(prefix):] or None if key and key.startswith(prefix) and "#" not in key[len(prefix):] else None


def default_platform(behavior_codes: list[str], partners: tuple[str, ...]) -> Platform:
    return Platform(DEFAULT, DEFAULT_NAME, dict(DEFAULT_BRANDING), None, {code: {} for code in behavior_codes},
                    partners)


def platform_from_catalog(entry: dict) -> Platform:
    """A stored (already checked) platform entry as a Platform."""
    return Platform(entry["id"], entry["name"], dict(entry["branding"]), entry["wechat_appid"],
                    {b["code"]: {k: v for k, v in b.items() if k != "code"} for b in entry.get("behaviors", [])},
                    tuple(entry.get("partners", [])))


def check_entry(entry: object, rules: dict[str, dict], partners: tuple[str, ...]) -> dict:
    """Checks one entry of the `platforms` section against the deployment's behaviour rules (`rules`: code ->
    the top-level catalog entry) and partners; returns the entry to store. Raises PlatformError."""
    if not isinstance(entry, dict):
        raise PlatformError(f"a platform is a JSON object, got {entry!r}")
    pid = entry.get("id")
    if not is_platform_id(pid):
        raise PlatformError(f"platform id {pid!r}: 2 to 32 of a-z, 0-9 and '-'")
    if pid == DEFAULT:
        raise PlatformError("platform 'default' is the top level of the catalog: it is not listed in 'platforms'")
    if pid == ALL:
        raise PlatformError("platform id 'all' names every platform in the console (issuance, stats, report)")
    where = f"platform {pid}"
    unknown = sorted(set(entry) - ENTRY_FIELDS - set(CATALOG_SECTIONS) - set(POLICY_SECTIONS))
    if unknown:
        raise PlatformError(f"{where}: unknown fields {', '.join(unknown)}")
    name, appid = entry.get("name"), entry.get("wechat_appid")
    if not isinstance(name, str) or not 1 <= len(name) <= 40:
        raise PlatformError(f"{where}: name must be text of 1 to 40 characters")
    if not isinstance(appid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{2,64}", appid):
        raise PlatformError(f"{where}: wechat_appid must be the mini program's AppID")
    behaviors = [_checked_behavior(where, b, rules) for b in _list(where, entry, "behaviors")]
    codes = [b["code"] for b in behaviors]
    if len(set(codes)) != len(codes):
        raise PlatformError(f"{where}: a behaviour is listed twice")
    for key in CATALOG_SECTIONS:  # their entries: the loader checks them as it checks the top level's
        _list(where, entry, key)
    chosen = _list(where, entry, "partners")
    if any(p not in partners for p in chosen) or len(set(chosen)) != len(chosen):
        raise PlatformError(f"{where}: partners must be distinct ids among {', '.join(partners)}, got {chosen!r}")
    return {"id": pid, "name": name, "wechat_appid": appid, "branding": _branding(where, entry.get("branding")),
            "behaviors": behaviors, "partners": list(chosen)}


def _list(where: str, entry: dict, key: str) -> list:
    value = entry.get(key, [])
    if not isinstance(value, list):
        raise PlatformError(f"{where}: {key} must be a list")
    return value


def _branding(where: str, branding: object) -> dict:
    if not isinstance(branding, dict):
        raise PlatformError(f"{where}: branding must be an object {{{', '.join(BRANDING_FIELDS)}}}")
    unknown = sorted(set(branding) - set(BRANDING_FIELDS))
    if unknown:
        raise PlatformError(f"{where}: branding has unknown fields {', '.join(unknown)}")
    for key in ("name", "slogan"):
        if not isinstance(branding.get(key), str) or not 1 <= len(branding[key]) <= 60:
            raise PlatformError(f"{where}: branding.{key} must be text of 1 to 60 characters")
    if not isinstance(branding.get("primary_color"), str) or not COLOR.fullmatch(branding["primary_color"]):
        raise PlatformError(f"{where}: branding.primary_color must be #RRGGBB")
    logo = branding.get("logo_url")
    if logo is not None and not (isinstance(logo, str) and logo.startswith("https://") and len(logo) <= 512):
        raise PlatformError(f"{where}: branding.logo_url must be an https URL or null")
    return {key: branding.get(key) for key in BRANDING_FIELDS}


def _whole(where: str, name: str, value: object, positive: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        raise PlatformError(f"{where}: {name} must be a whole number{' above 0' if positive else ' >= 0'}")
    return value


def _checked_behavior(where: str, behavior: object, rules: dict[str, dict]) -> dict:
    """A platform's choice of a deployment behaviour: its points and caps, never its carbon rule."""
    if not isinstance(behavior, dict) or not isinstance(behavior.get("code"), str):
        raise PlatformError(f"{where}: each behaviour is {{\"code\", \"points\"?, \"daily_limit\"?, "
                            f"\"daily_points_max\"?}}, got {behavior!r}")
    code = behavior["code"]
    rule = rules.get(code)
    if rule is None:
        raise PlatformError(f"{where}: behaviour {code!r} is not a behaviour of the catalog's top level")
    extra = sorted(set(behavior) - BEHAVIOR_FIELDS)
    if extra:
        raise PlatformError(f"{where}: behaviour {code}: a platform sets only points, daily_limit and "
                            f"daily_points_max (the carbon rule is the deployment's), not {', '.join(extra)}")
    checked: dict = {"code": code}
    if "points" in behavior:
        points = behavior["points"]
        if not isinstance(points, dict) or set(points) - {"points", "per"} or "points" not in points:
            raise PlatformError(f"{where}: behaviour {code}: points is {{\"points\", \"per\"?}}")
        per = points.get("per", 1)
        if isinstance(per, bool) or not isinstance(per, (int, float)) or not 0 < per < 1e9:
            raise PlatformError(f"{where}: behaviour {code}: points.per must be a number above 0")
        checked["points"] = {"points": _whole(where, f"behaviour {code}: points.points", points["points"], False),
                             "per": per}
    if behavior.get("daily_limit") is not None:
        limit = _whole(where, f"behaviour {code}: daily_limit", behavior["daily_limit"])
        ceiling = rule.get("daily_limit")
        if ceiling is not None and limit > ceiling:
            raise PlatformError(f"{where}: behaviour {code}: daily_limit {limit} is above the deployment's "
                                f"{ceiling}; a platform may only lower it")
        checked["daily_limit"] = limit
    if behavior.get("daily_points_max") is not None:
        checked["daily_points_max"] = _whole(where, f"behaviour {code}: daily_points_max",
                                             behavior["daily_points_max"])
    return checked


def platform_rule(rule: Any, choice: dict) -> Any:
    """The deployment's rule of a behaviour as a platform rewards it (`choice`: the platform's entry for it):
    its own `points`, a lower `daily_limit`, its `daily_points_max`; the carbon rule stays the deployment's."""
    changes: dict[str, Any] = {}
    if "points" in choice:
        changes.update(points=int(choice["points"]["points"]), points_per=Decimal(str(choice["points"]["per"])))
    if choice.get("daily_limit") is not None:
        limit = int(choice["daily_limit"])
        changes["daily_limit"] = limit if rule.daily_limit is None else min(limit, rule.daily_limit)
    if "daily_points_max" in choice:
        changes["daily_points_max"] = choice["daily_points_max"]
    return replace(rule, **changes)
