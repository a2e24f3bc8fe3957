"""POST /v1/me/appeals: a person under review asks a reviewer to look again (docs/risk.md "Review").

The text (1..500 characters) is checked by WeChat's msgSecCheck as a nickname is (services/nicknames.py):
`risky` is 422 CONTENT_REJECTED and nothing is written; any other verdict (or none: WeChat down) is accepted,
since only a reviewer reads it. The appeal is written on the account by one conditioned update: under review
(409 NOT_UNDER_REVIEW) with no open appeal (409 APPEAL_OPEN). A release or void closes it (services/review.py).
"""
from __future__ import annotations

import unicodedata
from typing import Any

from ..domain import clock, ids
from ..domain import review as review_rules
from ..domain.values import immutable
from ..errors import ContentRejectedError, NotUnderReviewError, ValidationError
from .nicknames import _verdict

TEXT_MAX = 500


@immutable
class Appeal:
    id: str
    status: str
    at: str


def submit(user_id: str, raw_text: object, store: Any) -> Appeal:
    """`store`: store/review_queue.Appeals (get, open)."""
    text = clean_text(raw_text)
    account = store.get(user_id)
    if not review_rules.under_review(account):
        raise NotUnderReviewError()
    if _verdict(account, text) == "risky":
        raise ContentRejectedError(field="text")
    now = clock.now()
    appeal = Appeal("ap_" + ids.sortable_id(clock.epoch_ms(now)), "open", clock.iso(now))
    store.open(user_id, {"id": appeal.id, "status": appeal.status, "at": appeal.at, "text": text})
    return appeal


def clean_text(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationError("申诉内容须为文字", field="text", reason="type")
    text = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(text) <= TEXT_MAX:
        raise ValidationError(f"申诉内容须为 1 到 {TEXT_MAX} 个字", field="text", reason="length", min_length=1,
                              max_length=TEXT_MAX)
    return text
