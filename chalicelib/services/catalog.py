"""The catalog as the request paths see it: behaviours and merchants, cached per Lambda container.

A check-in must not read the catalog from DynamoDB each time: each container reads the small
`behavior` and `merchant` partitions at most once a minute. Methodology versions are immutable,
so they are cached for good. Staff ids (services/tokens.staff_id) are computed once per load of the
`staff` partition, so a staff route checks its caller with a dict lookup and no DynamoDB call.

Merchants, staff and goods are per platform: `default`'s partitions `merchant`, `staff` and `goods` (as before
platforms), another platform P's `P#merchant`, `P#staff` and `P#goods` (domain/platforms.scoped), each cached on
its own.
"""
from __future__ import annotations

import time

from ..domain.methodology import Rule, rule_from_catalog
from ..domain.platforms import DEFAULT, platform_rule, scoped
from ..domain.risk import RiskSettings, settings_from
from ..errors import NotFoundError, UnknownBehaviorError
from ..settings import get_settings
from ..store import catalog_items
from . import tokens

CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, dict]] = {}
_versions: dict[tuple[str, str], Rule] = {}
# platform -> (its staff partition as loaded, JWT secret, sid -> mid)
_staff_ids: dict[str, tuple[dict, bytes, dict[str, str]]] = {}


def _partition(kind: str) -> dict[str, dict]:
    hit = _cache.get(kind)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    items = catalog_items.partition(kind)
    _cache[kind] = (time.monotonic(), items)
    return items


def forget() -> None:
    """Drops the container's cache (the admin console after a load; tests), the stock figures included."""
    from . import stock_memory

    _cache.clear()
    _staff_ids.clear()
    stock_memory.forget()


def behaviors() -> dict[str, Rule]:
    return {code: rule_from_catalog(data) for code, data in _partition("behavior").items()}


def rewarded(platform: str = DEFAULT) -> dict[str, Rule]:
    """The behaviours `platform` rewards, by code, with its rules (GET /v1/behaviors): `default`'s are the
    deployment's; another platform's are those its entry lists, as `behavior(code, platform)` gives them."""
    if platform == DEFAULT:
        return behaviors()
    return {code: behavior(code, platform)
            for code in [b["code"] for b in (platforms().get(platform) or {}).get("behaviors", [])]}


def behavior(code: object, platform: str = DEFAULT) -> Rule:
    """The behaviour's rule on `platform`: the deployment's (the top level: `default`'s), or as another platform
    rewards it (domain/platforms.platform_rule); 404 UNKNOWN_BEHAVIOR for a code the platform does not list."""
    data = _partition("behavior").get(code) if isinstance(code, str) else None
    if data is None:
        raise UnknownBehaviorError(behavior=code if isinstance(code, str) else None)
    if platform == DEFAULT:
        return rule_from_catalog(data)
    choices = {b["code"]: b for b in (platforms().get(platform) or {}).get("behaviors", [])}
    if code not in choices:
        raise UnknownBehaviorError(behavior=code)
    return platform_rule(rule_from_catalog(data), choices[code])


def rule_version(code: str, version: str) -> Rule:
    """The rule exactly as it was at `version`: what recomputing an old entry needs."""
    key = (code, version)
    if key not in _versions:
        _versions[key] = rule_from_catalog(catalog_items.methodology(code, version))
    return _versions[key]


def merchants(platform: str = DEFAULT) -> dict[str, dict]:
    """The platform's merchants by id (partition `merchant`, `P#merchant` for another platform P)."""
    return _partition(scoped(platform, "merchant"))


def goods(platform: str = DEFAULT) -> dict[str, dict]:
    """The platform's marketplace goods definitions (`goods`, `P#goods`; stock lives apart, in store/stock.py)."""
    return _partition(scoped(platform, "goods"))


def trees(platform: str = DEFAULT) -> dict[str, dict]:
    """Trees offered for adoption on `platform` (the `tree` partition, P's `P#tree`: admin/catalog_load.py)."""
    return _partition(scoped(platform, "tree"))


def tree(tree_id: object, platform: str = DEFAULT) -> dict:
    """A tree of `platform`'s; another platform's is 404 exactly as a missing one."""
    data = trees(platform).get(tree_id) if isinstance(tree_id, str) else None
    if data is None:
        raise NotFoundError("没有这种树苗", tree_id=tree_id if isinstance(tree_id, str) else None)
    return data


def merchant_of_staff(openid: str, platform: str = DEFAULT) -> dict | None:
    """The platform's merchant whose `staff_openids` lists this WeChat user (an openid of the platform's mini
    program), if any (the platform's `staff` partition indexes them by openid when the catalog is loaded)."""
    staff = _partition(scoped(platform, "staff")).get(openid)
    return merchants(platform).get(staff["merchant_id"]) if staff else None


def merchant_of_staff_id(sid: str | None, platform: str = DEFAULT) -> str | None:
    """The platform's merchant that lists, in its `staff_openids`, the openid behind a token's `sid` (None once
    it lists them no more, and for another platform's staff). The ids are computed once per load of the
    platform's `staff` partition (and again if JWT_SECRET changes), not per request."""
    staff, secret = _partition(scoped(platform, "staff")), get_settings().jwt_secret
    hit = _staff_ids.get(platform)
    if hit is None or hit[0] is not staff or hit[1] != secret:
        hit = (staff, secret, {tokens.staff_id(openid): data["merchant_id"] for openid, data in staff.items()})
        _staff_ids[platform] = hit
    return hit[2].get(sid) if sid else None


def policies(platform: str = DEFAULT) -> dict[str, dict]:
    """`platform`'s policies (the `policy` partition, P's `P#policy`), e.g. "points": {"expire_after_years": 1}
    (points_expiry.py)."""
    return _partition(scoped(platform, "policy"))


def risk_settings() -> RiskSettings:
    """The risk rules' thresholds: the deployment's catalog `risk` section (admin/risk_load.py), the contract's
    defaults where it was never loaded. From the cached `policy` partition: no call of its own."""
    return settings_from(policies().get("risk"))


def orgs(platform: str = DEFAULT) -> dict[str, dict]:
    """Organizations of `platform` (the `org` partition, P's `P#org`): id, name, type and the SHA-256 of the
    invite code, never the code."""
    return _partition(scoped(platform, "org"))


def platforms() -> dict[str, dict]:
    """The platforms besides `default` (the `platform` partition, admin/platforms_load.py), by id."""
    return _partition("platform")


def open_partners() -> dict[str, dict]:
    """The open-protocol partners (the `partner` partition, admin/partners_load.py), by id."""
    return _partition("partner")
