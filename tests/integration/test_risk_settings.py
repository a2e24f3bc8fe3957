"""The catalog's `risk` section (contract/risk.md "Rules"): an operator tunes the rules' numbers by loading it;
what it leaves out keeps the contract's default, and a wrong section is refused whole."""
from __future__ import annotations

import pytest

from admin.__main__ import main as admin
from chalicelib.services import catalog
from tests.support.market import load_catalog


@pytest.fixture
def defaults_after():
    yield
    load_catalog({"risk": {}})  # the deployment's thresholds are every test's: put the defaults back
    catalog.forget()


def test_a_loaded_section_changes_the_rules_numbers_and_keeps_the_rest(defaults_after):
    report = load_catalog({"risk": {"ring_accounts": 4, "steps_near_max_ratio": 0.9}})
    catalog.forget()
    settings = catalog.risk_settings()
    assert (settings.ring_accounts, float(settings.steps_near_max_ratio), settings.photo_distance) == (4, 0.9, 6)
    assert report["risk"] == {"changed": ["risk"]}
    assert load_catalog({"risk": {"ring_accounts": 4, "steps_near_max_ratio": 0.9}})["risk"] == {
        "unchanged": ["risk"]}
    load_catalog({"behaviors": []})  # a file without the section leaves the stored settings as they are
    catalog.forget()
    assert catalog.risk_settings().ring_accounts == 4


def test_a_wrong_section_is_refused_and_nothing_of_the_file_is_written(defaults_after, tmp_path, capsys):
    load_catalog({"risk": {"photo_distance": 5}})
    bad = tmp_path / "catalog.json"
    bad.write_text('{"risk": {"photo_distance": 4, "ring_acounts": 3}}', encoding="utf-8")
    assert admin(["load", str(bad)]) != 0
    assert "unknown settings ring_acounts" in capsys.readouterr().err
    catalog.forget()
    assert catalog.risk_settings().photo_distance == 5
