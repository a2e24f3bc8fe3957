"""A pytest plugin: every response the suite gets through `tests.support.api.call` is recorded, and at
the end of the session each body is validated against miniprogram_api/openapi.yaml (the schema of
its route and status). A body that does not match fails the run, with one line per problem.

Wired in tests/conftest.py (`pytest_plugins`). Works with pytest-xdist too: each test's responses
travel to the controller on its teardown report, and only the controller validates.
"""
from __future__ import annotations

import functools
import os

import pytest

_RECORDED: list[dict] = []  # responses of the running test, not yet attached to a report
_SEEN: list[dict] = []  # every response of the session, in the process that validates
_PROBLEMS = pytest.StashKey[list]()


def _recording(call):
    @functools.wraps(call)
    def recorded_call(client, method, path, *args, **kwargs):
        status, body = call(client, method, path, *args, **kwargs)
        test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
        _RECORDED.append({"method": method.upper(), "path": path, "status": status, "body": body, "test": test})
        return status, body

    recorded_call.records_contract = True
    return recorded_call


def pytest_configure(config):
    """Wraps `call` before the test modules are collected (they import it by name)."""
    import tests.support.api as api

    if not getattr(api.call, "records_contract", False):
        api.call = _recording(api.call)


def _drain() -> list[dict]:
    taken = list(_RECORDED)
    _RECORDED.clear()
    return taken


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "teardown":
        report.contract_responses = _drain()
    return report


def pytest_runtest_logreport(report):
    _SEEN.extend(getattr(report, "contract_responses", None) or ())


def _is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session, exitstatus):
    if _is_xdist_worker(session.config):
        return
    _SEEN.extend(_drain())
    if not _SEEN:
        return
    from tests.contract import spec

    try:
        problems = spec.check_all(_SEEN)
    except Exception as exc:  # a broken document must fail the run, not crash pytest
        problems = [f"miniprogram_api/openapi.yaml could not be used: {type(exc).__name__}: {exc}"]
    session.config.stash[_PROBLEMS] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    problems = config.stash.get(_PROBLEMS, None)
    if problems is None:
        return
    if not problems:
        terminalreporter.write_line(f"contract: all {len(_SEEN)} recorded responses match miniprogram_api/openapi.yaml")
        return
    terminalreporter.section("contract: responses that do not match miniprogram_api/openapi.yaml", red=True)
    for problem in problems:
        terminalreporter.write_line(problem)
    terminalreporter.write_line(
        f"contract check FAILED: {len(problems)} problem(s) in {len(_SEEN)} recorded responses; fix the app or "
        "the document (tests/contract/spec.py explains the check)", red=True)
