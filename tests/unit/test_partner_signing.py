"""Partner signatures (shared/partners/transit.md, bank.md), checked against values computed here from the
documents' own recipe, and every way a signed request can be wrong."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from chalicelib.partners.signing import (
    SignatureError,
    bank_signature,
    sorted_query,
    transit_headers,
    transit_signature,
    verify_bank,
    verify_transit,
)
from chalicelib.partners.wechat_phone import UndecryptableError, decrypt_user_data

SECRET, APP_ID, NOW = "s3cret", "gs-app", 1_795_000_000.0


def test_transit_signature_follows_the_documented_recipe():
    body = b'{"phone":"13800000000","scope":"rides"}'
    canonical = "\n".join(["POST", "/v1/authorizations", "", "1795000000", "n" * 16, hashlib.sha256(body).hexdigest()])
    expected = hmac.new(b"s3cret", canonical.encode(), hashlib.sha256).hexdigest()
    assert transit_signature(SECRET, "post", "/v1/authorizations", "", "1795000000", "n" * 16, body) == expected


def test_the_query_is_signed_with_its_keys_sorted_and_a_get_with_an_empty_body():
    query = sorted_query({"user_ref": "tu_1", "limit": "100", "cursor": "c_x"})
    assert query == "cursor=c_x&limit=100&user_ref=tu_1"
    canonical = "\n".join(["GET", "/v1/rides", query, "1", "n" * 16, hashlib.sha256(b"").hexdigest()])
    assert transit_signature(SECRET, "GET", "/v1/rides", query, "1", "n" * 16, b"") == \
        hmac.new(b"s3cret", canonical.encode(), hashlib.sha256).hexdigest()


def _headers(body=b"{}", now=NOW, **override):
    sent = transit_headers(APP_ID, SECRET, "POST", "/v1/webhooks/transit", "", body, now)
    return {k.lower(): v for k, v in {**sent, **override}.items()}


def test_each_signing_uses_a_new_nonce():
    nonces = {_headers()["x-nonce"] for _ in range(50)}
    assert len(nonces) == 50 and all(16 <= len(n) <= 64 for n in nonces)


def test_a_correct_transit_request_verifies_and_gives_its_nonce():
    headers = _headers()
    assert verify_transit(headers, APP_ID, SECRET, "POST", "/v1/webhooks/transit", "", b"{}", NOW) == headers["x-nonce"]


@pytest.mark.parametrize("change", [
    {"body": b'{"x":1}'}, {"secret": "other"}, {"app_id": "other-app"}, {"path": "/v1/webhooks/bank"},
    {"headers": {"x-signature": ""}}, {"headers": {"x-nonce": "short"}}, {"headers": {"x-timestamp": "soon"}},
    {"headers": {"x-signature": "é" * 64}},
])
def test_a_wrong_transit_request_is_a_bad_signature(change):
    headers = {**_headers(), **change.get("headers", {})}
    with pytest.raises(SignatureError) as refused:
        verify_transit(headers, change.get("app_id", APP_ID), change.get("secret", SECRET), "POST",
                       change.get("path", "/v1/webhooks/transit"), "", change.get("body", b"{}"), NOW)
    assert refused.value.replay is False


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_transit_timestamp_more_than_300_s_away_is_a_replay(skew):
    headers = _headers(now=NOW + skew)
    with pytest.raises(SignatureError) as refused:
        verify_transit(headers, APP_ID, SECRET, "POST", "/v1/webhooks/transit", "", b"{}", NOW)
    assert refused.value.replay is True


def test_bank_signature_follows_the_documented_recipe():
    body = b'{"events":[]}'
    expected = "sha256=" + hmac.new(b"whsec", b"1795000000." + body, hashlib.sha256).hexdigest()
    assert bank_signature("whsec", "1795000000", body) == expected
    headers = {"x-bank-timestamp": "1795000000", "x-bank-signature": expected}
    assert verify_bank(headers, "whsec", body, NOW) == expected


@pytest.mark.parametrize("headers, now", [
    ({"x-bank-timestamp": "1795000000", "x-bank-signature": "sha256=00"}, NOW),
    ({"x-bank-timestamp": "1795000000"}, NOW),
    ({"x-bank-signature": "sha256=00"}, NOW),
    (None, NOW + 301),
])
def test_a_wrong_or_stale_bank_delivery_is_a_bad_signature(headers, now):
    body = b'{"events":[]}'
    headers = headers or {"x-bank-timestamp": "1795000000",
                          "x-bank-signature": bank_signature("whsec", "1795000000", body)}
    with pytest.raises(SignatureError):
        verify_bank(headers, "whsec", body, now)


def test_user_data_that_does_not_decrypt_is_undecryptable():
    key = "MDEyMzQ1Njc4OWFiY2RlZg=="  # base64 of 16 bytes
    with pytest.raises(UndecryptableError):
        decrypt_user_data(key, b"\x00" * 32, b"\x00" * 16)
    with pytest.raises(UndecryptableError):
        decrypt_user_data("not base64!", b"\x00" * 32, b"\x00" * 16)
