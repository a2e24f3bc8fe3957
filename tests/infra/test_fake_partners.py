"""The fake bus company and fake bank answer as their documents say (shared/partners/transit.md, bank.md),
over real HTTP, refusals and limits included: what the app's tests rely on."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from infra.local.fake_bank import FakeBank
from infra.local.fake_transit import FakeTransit

APP_ID, SECRET = "gs-app", "transit-secret"


@pytest.fixture(scope="module")
def transit() -> Iterator[FakeTransit]:
    with FakeTransit(APP_ID, SECRET) as fake:
        yield fake


@pytest.fixture(scope="module")
def bank() -> Iterator[FakeBank]:
    with FakeBank("cid", "csecret", "whsecret", token_ttl=2) as fake:
        yield fake


@pytest.fixture(autouse=True)
def clean(transit: FakeTransit, bank: FakeBank) -> None:
    transit.reset()
    bank.reset()


def signed(method: str, path: str, query: dict | None = None, body: bytes = b"", nonce: str | None = None,
           stamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp_s, nonce = str(stamp or int(time.time())), nonce or secrets.token_hex(16)
    canonical = "\n".join([method, path, urlencode(sorted((query or {}).items())), stamp_s, nonce,
                           hashlib.sha256(body).hexdigest()])
    signature = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return {"X-App-Id": APP_ID, "X-Timestamp": stamp_s, "X-Nonce": nonce, "X-Signature": signature,
            "Content-Type": "application/json"}


def transit_call(fake: FakeTransit, method: str, path: str, query: dict | None = None, body: bytes = b"",
                 **sign) -> requests.Response:
    url = fake.base_url + path + ("?" + urlencode(sorted(query.items())) if query else "")
    return requests.request(method, url, data=body or None, headers=signed(method, path, query, body, **sign),
                            timeout=5)


def test_transit_authorizes_a_rider_once_and_revokes(transit):
    transit.add_rider("13800000000")
    body = b'{"phone": "13800000000", "scope": "rides"}'
    first = transit_call(transit, "POST", "/v1/authorizations", body=body)
    assert first.status_code == 201 and first.json()["user_ref"].startswith("tu_")
    again = transit_call(transit, "POST", "/v1/authorizations", body=body)
    assert (again.status_code, again.json()["code"]) == (409, "ALREADY_AUTHORIZED")
    assert again.json()["authorization_id"] == first.json()["authorization_id"]
    gone = transit_call(transit, "DELETE", f"/v1/authorizations/{first.json()['authorization_id']}")
    assert gone.status_code == 204
    missing = transit_call(transit, "POST", "/v1/authorizations", body=b'{"phone": "13900000000", "scope": "rides"}')
    assert (missing.status_code, missing.json()["code"]) == (404, "NO_SUCH_RIDER")


def test_transit_refuses_bad_signatures_reused_nonces_and_stale_timestamps(transit):
    path, query = "/v1/rides", {"user_ref": "tu_x"}
    assert transit_call(transit, "GET", path, query, secret="wrong").json() == {"code": "BAD_SIGNATURE"}
    nonce = secrets.token_hex(16)
    assert transit_call(transit, "GET", path, query, nonce=nonce).status_code == 403  # signed fine: not authorized
    assert transit_call(transit, "GET", path, query, nonce=nonce).json() == {"code": "REPLAYED"}
    stale = transit_call(transit, "GET", path, query, stamp=int(time.time()) - 301)
    assert (stale.status_code, stale.json()) == (401, {"code": "REPLAYED"})


def test_transit_pages_rides_from_the_beginning_of_the_authorization(transit):
    ref = transit.add_rider("13800000001")
    transit.add_ride(ref)  # before the authorization: never listed
    transit_call(transit, "POST", "/v1/authorizations", body=b'{"phone": "13800000001", "scope": "rides"}')
    recorded = [transit.add_ride(ref)["ride_id"] for _ in range(150)]
    page = transit_call(transit, "GET", "/v1/rides", {"user_ref": ref, "limit": "100"}).json()
    assert page["has_more"] and [r["ride_id"] for r in page["rides"]] == recorded[:100]
    rest = transit_call(transit, "GET", "/v1/rides", {"user_ref": ref, "cursor": page["next_cursor"]}).json()
    assert not rest["has_more"] and [r["ride_id"] for r in rest["rides"]] == recorded[100:]


def test_transit_faults_answer_as_switched_then_pass(transit):
    transit.faults.add(path="/v1/rides", status=429, retry_after=7)
    transit.faults.add(path="/v1/rides", status=500)
    first = transit_call(transit, "GET", "/v1/rides", {"user_ref": "x"})
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert transit_call(transit, "GET", "/v1/rides", {"user_ref": "x"}).status_code == 500
    assert transit_call(transit, "GET", "/v1/rides", {"user_ref": "x"}).status_code == 403
    assert transit.calls()["/v1/rides"] == 3


def token(bank: FakeBank, secret: str = "csecret") -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": secret}
    return requests.post(bank.base_url + "/oauth/token", data=form, timeout=5)


def test_bank_tokens_expire_can_be_invalidated_and_are_limited_to_10_a_minute(bank):
    assert token(bank, "wrong").json() == {"error": "invalid_client"}
    issued = token(bank).json()
    assert (issued["token_type"], issued["expires_in"]) == ("Bearer", 2)
    auth = {"Authorization": f"Bearer {issued['access_token']}"}
    listing = bank.base_url + "/v1/green-events?customer_ref=bc_x"
    assert requests.get(listing, headers=auth, timeout=5).status_code == 200
    bank.invalidate_tokens()
    assert requests.get(listing, headers=auth, timeout=5).json() == {"error": "invalid_token"}
    for _ in range(8):
        token(bank)
    limited = token(bank)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "60")
    assert bank.token_requests() == 11


def test_bank_lists_a_customers_events_after_the_last_one_seen(bank):
    ref = bank.add_customer("13800000002")
    ids = [bank.add_event(ref)["event_id"] for _ in range(3)]
    bank.add_event(bank.add_customer("13800000003"))
    auth = {"Authorization": f"Bearer {token(bank).json()['access_token']}"}
    after = requests.get(f"{bank.base_url}/v1/green-events?customer_ref={ref}&after={ids[0]}", headers=auth,
                         timeout=5).json()
    assert [e["event_id"] for e in after["events"]] == ids[1:] and after["has_more"] is False
    assert ids == sorted(ids)


def test_bank_webhook_signature_follows_the_document(bank):
    _, headers, body = bank.webhook_request([], timestamp=1795000000)
    expected = hmac.new(b"whsecret", b"1795000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Bank-Signature"] == "sha256=" + expected


@pytest.mark.parametrize("retry_after", ["nan", "-5", "soon", "1e400", 7])
def test_a_429_fault_sends_the_retry_after_it_was_given_as_it_is(transit, retry_after):
    requests.post(transit.base_url + "/__fake__/faults", timeout=5,
                  json={"path": "/v1/rides", "status": 429, "retry_after": retry_after})
    answer = transit_call(transit, "GET", "/v1/rides", {"user_ref": "x"})
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, str(retry_after))


def test_a_redirect_fault_sends_its_location(bank):
    bank.faults.add(path="/v1/consents", status=307, location="http://127.0.0.1:9/elsewhere")
    answer = requests.post(bank.base_url + "/v1/consents", json={}, allow_redirects=False, timeout=5)
    assert (answer.status_code, answer.headers["Location"]) == (307, "http://127.0.0.1:9/elsewhere")
