"""The catalog's "subscribe_templates" section: the WeChat subscribe-message template of each nudge topic
(shared/contract/nudges.md, docs/nudges.md).

    "subscribe_templates": {"coupon_expiring": "TEMPLATE_ID", "points_expiring": "...", ...}

Stored as the catalog item ("policy", "subscribe_templates"); a platform entry's `subscribe_templates`
(admin/platforms_load.py) is the same section for that platform, stored as ("P#policy", "subscribe_templates"):
a platform has the templates its own entry lists and inherits none. A topic left out has no template: it is
never sent and POST /v1/me/subscriptions refuses it. A file without the section leaves the stored one as it is.
"""
from __future__ import annotations

from chalicelib.domain.nudges import TOPICS
from chalicelib.domain.platforms import DEFAULT, scoped
from chalicelib.store.models import CatalogItem

from .console import CommandError

MAX_TEMPLATE_ID = 128


def plan_subscribe_templates(section, platform: str = DEFAULT):
    from .catalog_load import Planned, existing  # catalog_load lists this planner

    if section in (None, []):
        return Planned([], [], {"unchanged": []})
    if not isinstance(section, dict):
        raise CommandError('subscribe_templates must be an object such as {"coupon_expiring": "TEMPLATE_ID"}')
    unknown = sorted(set(section) - set(TOPICS))
    if unknown:
        raise CommandError(f"subscribe_templates: no topic {', '.join(unknown)}; topics: {', '.join(TOPICS)}")
    for topic, template in section.items():
        if not isinstance(template, str) or not 0 < len(template) <= MAX_TEMPLATE_ID or template.strip() != template:
            raise CommandError(f"subscribe_templates: {topic} needs a template id (a string of 1 to 128 characters)")
    partition = scoped(platform, "policy")
    stored = dict(sorted(section.items()))
    if existing(partition).get("subscribe_templates") == stored:
        return Planned([], [], {"unchanged": ["subscribe_templates"]})
    return Planned([CatalogItem(partition, "subscribe_templates", data=stored)], [],
                   {"changed": ["subscribe_templates"]})
