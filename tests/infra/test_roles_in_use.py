"""The per-function policies, checked against what the code really does: a day of use runs through the API
(the capacity journey, then the user's redemption cancelled and the account deleted), the streams are handed
to their handlers, and every job runs; each DynamoDB call made is checked against the policy of the Lambda
function that would make it in AWS (infra/aws/policy.py), explicit denies included. The policies are composed
from what the store declares (chalicelib/store/access.py) and what each function names (bootstrap.py,
jobs.py); this is what fails when code makes a call its declarations do not list."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from admin.__main__ import main as admin
from bench import journey
from bench.measure import Recorder, touches
from chalicelib.store import models  # its TABLE_PREFIX is read on first use, once the stack is up
from infra.aws.policy import allows, policy
from tests.support.api import call, login

STAGE = "dev"


@pytest.fixture(scope="module")
def day(app_module):
    """function name -> [(what ran, a DynamoDB call it made)]"""
    from chalice.test import Client

    from admin import streams
    from chalicelib import jobs
    from chalicelib.domain import clock

    made: dict[str, list] = {}

    def recorded(function: str, label: str, work):
        with Recorder() as recorder:
            result = work()
        made.setdefault(function, []).extend((label, c) for c in recorder.take())
        return result

    def grant(user_id: str) -> None:
        admin(["points", "adjust", user_id, "1000", "--reason", "roles test"])

    openid = "o-roles-" + uuid.uuid4().hex[:10]
    with Client(app_module.app, stage_name="local") as client:
        for step in journey.run(client, app_module.app, openid, grant):
            if step.step not in (journey.TREE_ACCRUAL, journey.STORED_PER_USER):
                made.setdefault("api_handler", []).extend((step.step, c) for c in step.calls)
        user = login(client, openid)
        redemptions = recorded("api_handler", "my redemptions", lambda: call(
            client, "GET", "/v1/me/redemptions", token=user["token"]))[1]
        issued = [item["id"] for item in redemptions.get("items", []) if item["status"] == "issued"]
        assert issued, redemptions
        answers = [
            recorded("api_handler", "cancel a redemption", lambda: call(
                client, "POST", f"/v1/me/redemptions/{issued[0]}/cancel", None, token=user["token"])),
            recorded("api_handler", "export", lambda: call(client, "GET", "/v1/me/export", token=user["token"])),
            recorded("api_handler", "delete the account", lambda: call(
                client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=user["token"]))]
        assert [status for status, _ in answers] == [200, 200, 200], answers

    handlers = {"ledger_stream": streams.aggregate.accept_ledger,
                "identity_stream": streams.aggregate.accept_identities}
    by_handler = {handler: name for name, handler in handlers.items()}

    def wrapped(handler):
        return lambda records: recorded(by_handler[handler], f"{by_handler[handler]} batch",
                                        lambda: handler(records))

    original = streams.STREAMS
    streams.STREAMS = tuple((model, wrapped(handler)) for model, handler in original)
    try:
        streams.drain()
    finally:
        streams.STREAMS = original
    at = clock.now() + timedelta(days=1)
    for job in jobs.JOBS:  # a sharded job runs its slices in the worker, a plain one in its own function
        recorded(jobs.scheduling.WORKER if job.run_slice else job.name, job.name, lambda job=job: job.run(at))
    return made


def refused(function: str, made: list) -> list[tuple]:
    document = policy(STAGE, function)
    found = []
    for label, made_call in made:
        for touch in touches(made_call, {}):
            table = f"greensprout-{STAGE}-" + touch.table.removeprefix(models.TABLE_PREFIX)
            arn = f"arn:aws-cn:dynamodb:cn-northwest-1:123456789012:table/{table}"
            arn += f"/index/{touch.index}" if touch.index else ""
            if not allows(document, f"dynamodb:{touch.action}", arn):
                found.append((label, touch.action, table, touch.index))
    return sorted(set(found))


def test_the_api_handler_is_allowed_every_call_of_the_day_and_its_deletion(day):
    assert len(day["api_handler"]) > 20
    assert {label for label, _ in day["api_handler"]} >= {"check-in", "redemption", "cancel a redemption",
                                                         "delete the account"}
    assert refused("api_handler", day["api_handler"]) == []


def test_each_stream_handler_is_allowed_what_it_does_with_its_records(day):
    for function in ("ledger_stream", "identity_stream"):
        assert day.get(function), f"{function} got no records"
        assert refused(function, day[function]) == [], function


def test_each_job_is_allowed_what_it_does_under_its_own_role(day):
    from chalicelib import jobs

    ran = [name for name in day if name not in ("api_handler", "ledger_stream", "identity_stream")]
    assert jobs.scheduling.WORKER in ran and "finish-erasures" in ran
    assert "materialize-boards" in {label for label, _ in day[jobs.scheduling.WORKER]}  # the rebuild: sharded
    for function in ran:
        assert refused(function, day[function]) == [], function


def test_a_call_outside_the_role_is_seen_here(day):
    """The check can fail: the API's calls, held against a job's role, are refused."""
    assert refused("recheck-nicknames", day["api_handler"])
