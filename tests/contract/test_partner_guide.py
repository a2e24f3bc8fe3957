"""docs/partners.md gives partners' engineers a signed example of each webhook: the figures it prints must
be what our webhooks accept, and its shell recipes must sign the same way."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.partners.signing import SignatureError, verify_bank, verify_transit

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "partners.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = GUIDE.index(title)
    end = GUIDE.find("\n### ", start + len(title))
    return GUIDE[start:end if end > 0 else None]


def _example(title: str) -> dict:
    text = _section(title)
    found = {
        "secret": re.search(r"the secret `([^`]+)`", text).group(1),
        "timestamp": re.search(r"timestamp\s+`(\d+)`", text).group(1),
        "body": re.search(r"```json\n(.+?)\n```", text, re.S).group(1).encode(),
        "recipe": re.search(r"```sh\n(.+?)\n```", text, re.S).group(1),
    }
    nonce = re.search(r"nonce\s+`([0-9a-f]+)`", text)
    found["nonce"] = nonce.group(1) if nonce else None
    found["signature"] = re.findall(r"(?:sha256=|`)([0-9a-f]{64})`", text)[-1]
    return found


def _signing_steps(recipe: str, body: bytes, timestamp: str, nonce: str | None, secret: str) -> str:
    """Runs the recipe up to its curl line with the example's values, and returns what it put in $sig."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    steps = recipe.split("curl ")[0]
    steps = re.sub(r"body='[^']*'", "body=\"$EXAMPLE_BODY\"", steps)
    steps = steps.replace("ts=$(date +%s)", "ts=$EXAMPLE_TS").replace("nonce=$(openssl rand -hex 16)",
                                                                      "nonce=$EXAMPLE_NONCE")
    result = subprocess.run(["bash", "-c", steps + '\nprintf %s "$sig"'], capture_output=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "EXAMPLE_BODY": body.decode(), "EXAMPLE_TS": timestamp,
                                 "EXAMPLE_NONCE": nonce or "", "SECRET": secret})
    return result.stdout.decode()


def test_the_transit_example_is_accepted_and_its_recipe_signs_the_same():
    ex = _example("### The bus company: a signed example")
    headers = {"x-app-id": "gs", "x-timestamp": ex["timestamp"], "x-nonce": ex["nonce"], "x-signature": ex["signature"]}
    assert verify_transit(headers, "gs", ex["secret"], "POST", "/v1/webhooks/transit", "", ex["body"],
                          now=int(ex["timestamp"])) == ex["nonce"]
    assert _signing_steps(ex["recipe"], ex["body"], ex["timestamp"], ex["nonce"], ex["secret"]) == ex["signature"]


def test_the_bank_example_is_accepted_and_its_recipe_signs_the_same():
    ex = _example("### The bank: a signed example")
    headers = {"x-bank-timestamp": ex["timestamp"], "x-bank-signature": "sha256=" + ex["signature"]}
    assert verify_bank(headers, ex["secret"], ex["body"], now=int(ex["timestamp"]))
    assert _signing_steps(ex["recipe"], ex["body"], ex["timestamp"], None, ex["secret"]) == ex["signature"]


def test_a_changed_byte_of_the_example_body_is_refused():
    ex = _example("### The bank: a signed example")
    headers = {"x-bank-timestamp": ex["timestamp"], "x-bank-signature": "sha256=" + ex["signature"]}
    with pytest.raises(SignatureError):
        verify_bank(headers, ex["secret"], ex["body"].replace(b"ge_0001", b"ge_0002"), now=int(ex["timestamp"]))


def test_the_open_protocol_example_is_accepted_and_its_recipe_signs_the_same():
    from chalicelib.partners.signing import verify_open

    ex = _example("### The open protocol: a signed example")
    headers = {"x-gs-partner": "bikeshare", "x-gs-timestamp": ex["timestamp"], "x-gs-nonce": ex["nonce"],
               "x-gs-signature": ex["signature"]}
    assert verify_open(headers, "bikeshare", ex["secret"], "POST", "/v1/webhooks/bikeshare", ex["body"],
                       now=int(ex["timestamp"])) == ex["nonce"]
    assert _signing_steps(ex["recipe"], ex["body"], ex["timestamp"], ex["nonce"], ex["secret"]) == ex["signature"]
    with pytest.raises(SignatureError):
        verify_open(headers, "bikeshare", ex["secret"], "POST", "/v1/webhooks/bikeshare",
                    ex["body"].replace(b"3.2", b"32"), now=int(ex["timestamp"]))
