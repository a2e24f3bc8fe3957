"""The JSON of partner consents (api.md: GET /v1/partners, PUT and DELETE /v1/partners/{id}/consent, and the
consents of GET /v1/me/export), from domain/consents.py's values."""
from __future__ import annotations

from ..domain.consents import Consent, ConsentState, PartnerConsent


def consent_state_json(state: ConsentState) -> dict:
    body = {"id": state.partner, "status": state.status}
    if state.status == "bound":
        body["bound_at"] = state.bound_at
    return body


def partners_json(listed: list[PartnerConsent]) -> dict:
    items = [{"id": p.id, "name": p.name, "scopes": list(p.scopes), "status": p.status, "bound_at": p.bound_at,
              "revoked_at": p.revoked_at, "link": p.link} for p in listed]
    return {"items": items, "next_cursor": None}


def consents_export_json(consents: list[Consent]) -> list[dict]:
    return [{"id": c.partner, "status": c.status, "bound_at": c.bound_at, "revoked_at": c.revoked_at,
             "history": list(c.history)} for c in consents]
