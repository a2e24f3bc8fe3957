"""A day of one user, request by request, measured: the DynamoDB calls and capacity of each API operation.

    python -m bench.journey        # starts the stack (infra/local/ephemeral.py), prints the steps as JSON

Each step goes through the whole app (chalice.test.Client: routing, middleware, services, PynamoDB) against
DynamoDB Local. Steps of features whose routes are not registered yet are left out (and say so). The
catalog and the revoked accounts are cached per container, so steps are measured warm, as nearly every
request in AWS is.
"""
from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .measure import Call, Recorder, table_keys, written_partitions
from .units import Cost, cost, reader


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    body: Callable[[dict], dict] | None = None  # context -> JSON body
    expect: tuple[int, ...] = (200, 201)
    route: str | None = None  # the route pattern, when it differs from `path` ("{tree}": the context's)


def _rid(_: dict) -> dict:
    return {"request_id": "cap_" + uuid.uuid4().hex}


ROOT = Path(__file__).resolve().parents[1]
CHECKIN_RID = "cap_checkin_" + uuid.uuid4().hex[:12]
STORED_PER_USER = "stored per user (account, identity)"
TREE_ACCRUAL = "tree accrual (scheduled)"

STEPS = (
    Step("login (first time)", "POST", "/v1/auth/login", lambda c: {"code": f"wx:{c['openid']}:1"}),
    Step("login (returning)", "POST", "/v1/auth/login", lambda c: {"code": f"wx:{c['openid']}:2"}),
    Step("profile", "GET", "/v1/me"),
    Step("profile update", "PATCH", "/v1/me", lambda c: {"nickname": "绿芽测量"}),
    Step("behaviours", "GET", "/v1/behaviors"),
    # check-ins without a photo (the plan's check-in; the demo catalog's clean_plate and garbage_sorting take one)
    Step("check-in", "POST", "/v1/checkins", lambda c: {"request_id": c["rid"], "behavior": "no_cutlery"}),
    Step("check-in replayed", "POST", "/v1/checkins", lambda c: {"request_id": c["rid"], "behavior": "no_cutlery"}),
    Step("check-in, another behaviour", "POST", "/v1/checkins",
         lambda c: {**_rid(c), "behavior": "green_parking", "quantity": 1, "evidence": {"odometer_km": 12345}}),
    Step("ledger page", "GET", "/v1/me/ledger"),
    Step("ledger page by kind", "GET", "/v1/me/ledger?kind=earn", route="/v1/me/ledger"),
    Step("summary", "GET", "/v1/me/summary"),
    Step("trees", "GET", "/v1/trees"),
    Step("tree adoption", "POST", "/v1/trees/{tree}/adopt", _rid),
    Step("goods", "GET", "/v1/market/goods"),
    Step("redemption", "POST", "/v1/market/goods/{goods}/redeem", _rid),
    Step("join an organization", "POST", "/v1/orgs/{org}/join", lambda c: {"invite_code": c["invite_code"]}),
    Step("public stats", "GET", "/v1/stats"),
)


@dataclass
class Measured:
    step: str
    status: int | None
    calls: list[Call] = field(default_factory=list)
    cost: Cost = field(default_factory=Cost)
    written: set = field(default_factory=set)
    skipped: str | None = None


def demo_catalog_ids() -> dict:
    """A coupon, a tree and an organization of the demo catalog (admin/demo_catalog.json), to use them."""
    catalog = json.loads((ROOT / "admin" / "demo_catalog.json").read_text(encoding="utf-8"))
    coupon = next((g for g in catalog.get("goods", []) if g.get("kind") == "coupon"), {"id": "none"})
    org = next(iter(catalog.get("orgs", [])), {"id": "none", "invite_code": "none"})
    tree = next(iter(catalog.get("trees", [])), {"id": "none"})
    return {"goods": coupon["id"], "tree": tree["id"], "org": org["id"], "invite_code": org.get("invite_code")}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def registered(app, step: Step) -> bool:
    wanted = _shape(step.route or step.path.split("?")[0])
    return any(_shape(path) == wanted and step.method in methods for path, methods in app.routes.items())


def run(client, app, openid: str, grant_points: Callable[[str], None] | None = None) -> list[Measured]:
    """Every step, in order, for one new user; `grant_points(user_id)` gives the user enough points to
    adopt and redeem (an operator's adjustment, not measured)."""
    schema, read_back = table_keys(), reader()
    context = {"openid": openid, "rid": CHECKIN_RID + openid[-6:], "token": None, **demo_catalog_ids()}
    client.http.get("/v1/behaviors")  # a warm container: the catalog is in its cache ...
    from chalicelib.services import revocations

    revocations.revoked()  # ... and so are the revoked accounts (services/revocations.py, once a minute)
    from chalicelib.services import catalog

    catalog.risk_settings()  # ... and the risk rules' thresholds (the catalog's policy partition, once a minute)
    results = []
    for step in STEPS:
        if not registered(app, step):
            results.append(Measured(step.name, None, skipped="route not registered in app.py yet"))
            continue
        if step.name == "tree adoption" and grant_points and context.get("user_id"):
            grant_points(context["user_id"])
        headers = {"Content-Type": "application/json"}
        if context["token"]:
            headers["Authorization"] = f"Bearer {context['token']}"
        body = json.dumps(step.body(context), ensure_ascii=False) if step.body else None
        with Recorder(schema) as recorder:
            response = getattr(client.http, step.method.lower())(step.path.format(**context), headers=headers,
                                                                 body=body)
        calls = recorder.take()
        answer = json.loads(response.body) if response.body else {}
        if step.name.startswith("login") and response.status_code == 200:
            context["token"], context["user_id"] = answer["token"], answer["user"]["id"]
        measured = Measured(step.name, response.status_code, calls, cost(calls, schema, read_back),
                            set().union(*(written_partitions(c, schema) for c in calls)) if calls else set())
        if response.status_code not in step.expect:
            measured.skipped = f"answered {response.status_code}: {answer.get('error', answer)}"
        results.append(measured)
    results.append(_tree_accrual(context.get("user_id"), schema, read_back))
    results.append(_stored_per_user(context.get("user_id"), read_back))
    return results


def _tree_accrual(user_id: str | None, schema, read_back) -> Measured:
    """The scheduled accrual of the user's adoption for its first day (services/accrual.py), per
    adoption-day; the shard's page read (one Query and one BatchGetItem per 100 adoptions) is left out."""
    measured = Measured(TREE_ACCRUAL, None, skipped="no adoption to accrue")
    try:
        from chalicelib import bootstrap
        from chalicelib.domain import clock
        from chalicelib.services.accrual import accrue_user
        from chalicelib.store.trees import Adoption
    except ImportError:
        return measured
    uow = bootstrap.trees_uow()
    adoptions = uow.adoptions.get_many([a.adoption_id for a in Adoption.by_user.query(user_id)]) if user_id else []
    if not adoptions:
        return measured
    with Recorder(schema) as recorder:
        counts = accrue_user(user_id, adoptions, clock.business_day(clock.now()) + timedelta(days=1), uow)
    calls = recorder.take()
    measured.calls, measured.cost = calls, cost(calls, schema, read_back)
    measured.written = set().union(*(written_partitions(c, schema) for c in calls)) if calls else set()
    measured.skipped = None if counts.get("credited_days") else f"nothing credited: {dict(counts)}"
    return measured


def _stored_per_user(user_id: str | None, read_back) -> Measured:
    """What one person keeps whatever they do: their account and identity items (sizes as measured)."""
    from chalicelib.store.models import Account, Identity

    from .measure import Touch
    from .units import item_size

    measured = Measured(STORED_PER_USER, None)
    if user_id:
        account = read_back(Touch("GetItem", Account.Meta.table_name, raw_key={"user_id": {"S": user_id}}))
        identity_key = (account or {}).get("identity_key", {}).get("S")
        identity = read_back(Touch("GetItem", Identity.Meta.table_name, raw_key={"key": {"S": identity_key}})) \
            if identity_key else None
        measured.cost.new_bytes = item_size(account) + item_size(identity) + 200
    return measured


def as_rows(results: list[Measured]) -> list[dict]:
    from chalicelib.store.models import TABLE_PREFIX

    return [{"step": m.step, "status": m.status, "skipped": m.skipped, "calls": m.cost.calls,
             "operations": m.cost.operations, "read_units": m.cost.read_units, "write_units": m.cost.write_units,
             "items_written": m.cost.items_written, "new_bytes": m.cost.new_bytes,
             "expiring_bytes": m.cost.expiring_bytes,
             "written": sorted(f"{t}:{k}" for t, k in m.written),
             "key_writes": {f"{t.removeprefix(TABLE_PREFIX)}:{k}": n for (t, k), n in m.cost.key_writes.items()}}
            for m in results]


def granter() -> Callable[[str], None]:
    """grant_points for `run`: an operator's adjustment through the console (not measured)."""
    import contextlib

    from admin.__main__ import main as admin

    def grant_points(user_id: str) -> None:
        with contextlib.redirect_stdout(sys.stderr):
            admin(["points", "adjust", user_id, "1000", "--reason", "capacity measurement"])

    return grant_points


def main() -> int:
    from chalice.test import Client

    from infra.local.ephemeral import running

    with running():
        import app

        with Client(app.app, stage_name="local") as client:
            rows = as_rows(run(client, app.app, "o-capacity-" + uuid.uuid4().hex[:8], granter()))
    print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
