"""POST and GET /v1/me/subscriptions (shared/contract/nudges.md "API"): what the user accepted in one
`wx.requestSubscribeMessage`, as allowances per topic, and what was sent.

A topic can be accepted only if the user's platform has a template for it (the catalog's `subscribe_templates`,
top level for `default`, a platform entry's for another: no inheritance). Each distinct accepted topic gains one
allowance, at most MAX_ALLOWANCES kept. The write is one consistent Query of the user's allowances, then one
TransactWriteItems: the idempotency record (attribute_not_exists: a retry of the request_id finds the first
answer) and each allowance conditioned on the count read (a concurrent acceptance makes it read again).
"""
from __future__ import annotations

import random
import time
from typing import Any

from ..domain import nudges as rules
from ..domain.ids import parse_request_id
from ..errors import ValidationError
from ..store.failures import ConditionFailed, Unavailable
from ..store.idempotency import IdempotencyKey
from ..store.nudges import Replayed
from ..store.repositories_nudges import Subscriptions, sent_of
from . import catalog

ROUTE = "POST /v1/me/subscriptions"
MAX_ATTEMPTS = 8


def templates(platform: str) -> dict[str, str]:
    """{topic: WeChat template id} of `platform` (the cached catalog's `policy` partition, P's `P#policy`)."""
    found = catalog.policies(platform).get("subscribe_templates") or {}
    return {topic: template for topic, template in found.items() if topic in rules.TOPICS and template}


def accepted_topics(raw: object, platform: str) -> list[str]:
    """The distinct topics of `accepted`, each of the platform's templates; VALIDATION_ERROR (field `accepted`)
    for anything else, before anything is written."""
    offered = templates(platform)
    if not isinstance(raw, list) or not all(isinstance(topic, str) for topic in raw):
        raise ValidationError("accepted 须为主题名称的数组", field="accepted", reason="type", expected=["array"])
    unknown = sorted({topic for topic in raw if topic not in offered})
    if unknown:
        raise ValidationError("accepted 含有未开通的订阅主题", field="accepted", reason="unknown_topic",
                              topics=unknown, allowed=sorted(offered))
    return sorted(set(raw))


def shown(allowances: dict[str, int], platform: str) -> dict[str, int]:
    """Every topic with a template on the platform, 0 included."""
    return {topic: int(allowances.get(topic, 0)) for topic in sorted(templates(platform))}


def accept(user_id: str, platform: str, raw_request_id: object, raw_accepted: object,
           store: Subscriptions) -> tuple[int, dict]:
    """(status, body) of POST /v1/me/subscriptions; a retried request_id gets the first answer."""
    request_id = parse_request_id(raw_request_id)
    topics = accepted_topics(raw_accepted, platform)
    key = IdempotencyKey(user_id, request_id, ROUTE, {"accepted": topics})
    for attempt in range(MAX_ATTEMPTS):
        read = store.allowances(user_id, consistent=True)
        after = dict(read)
        for topic in topics:
            after[topic] = min(rules.MAX_ALLOWANCES, after.get(topic, 0) + 1)
        body = {"allowances": shown(after, platform)}
        try:
            store.add(user_id, platform, read, topics, key, (200, body))
        except Replayed as first:
            return first.status, first.body
        except ConditionFailed:
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # a concurrent acceptance: read again
            continue
        return 200, body
    raise Unavailable()


def listing(user_id: str, platform: str, store: Subscriptions) -> dict[str, Any]:
    """GET /v1/me/subscriptions: the allowances and the last 20 messages sent."""
    items = store.items(user_id)
    allowances = {item.sk.split("#", 1)[1]: int(item.count or 0) for item in items if item.sk.startswith("allow#")}
    return {"allowances": shown(allowances, platform), "sent": sent_of(items)}
