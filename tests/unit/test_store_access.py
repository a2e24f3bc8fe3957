"""What the store declares it touches (chalicelib/store/access.py), read as infra/aws/policy.py reads it to grant
each Lambda function its IAM policy: a repository's declaration with its bases' and the pieces it names, a piece
named by string, and the refusals that keep a declaration honest. No database: declarations are data."""
from __future__ import annotations

import pytest

from chalicelib import bootstrap, jobs
from chalicelib.store.access import Touch, on, touches

M = "chalicelib.store.models."


def test_a_repository_declares_what_its_bases_and_the_repositories_it_uses_touch():
    from chalicelib.store.repositories_consent import Bindings

    found = set(touches(Bindings))
    assert Touch("chalicelib.store.partners.Consent", "GetItem") in found  # ConsentRecords, a base
    assert Touch("chalicelib.store.partners.Consent", "PutItem") in found  # Consents, the next base
    assert Touch(M + "Account", "GetItem") in found  # the Accounts repository it names
    assert Touch("chalicelib.store.partners.Consent", "Query", "pending_revocations") not in found  # a sibling's


def test_a_unit_of_work_touches_its_repositories_tables_and_nothing_else():
    from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork

    tables = {t.model.rsplit(".", 1)[1] for t in touches(DynamoPostingUnitOfWork)}
    assert tables == {"Account", "LedgerEntry", "BehaviorMonth", "IdempotencyRecord", "Stock", "LimitCounter",
                      "Redemption", "RedemptionCode", "ModerationItem"}  # ModerationItem: the review queue's item
    assert Touch(M + "LedgerEntry", "UpdateItem") not in set(touches(DynamoPostingUnitOfWork))  # append-only


def test_a_piece_named_by_string_is_the_piece_it_names():
    assert set(touches("chalicelib.store.repositories_erasure:finished")) == {
        Touch("chalicelib.store.privacy.Erasure", "UpdateItem")}
    assert set(touches("chalicelib.store.logins")) == {  # a module: its ACCESS
        Touch(M + "Identity", "UpdateItem"), Touch(M + "Identity", "PutItem"), Touch(M + "Account", "PutItem"),
        Touch(M + "Account", "BatchGetItem"), Touch(M + "Account", "UpdateItem"),  # a join reads and marks accounts
        Touch("chalicelib.store.market.LimitCounter", "UpdateItem"),  # and counts their day's events per person
        Touch("chalicelib.store.privacy.AccountShard", "PutItem")}


def test_a_piece_that_declares_nothing_is_refused_rather_than_granted_nothing():
    with pytest.raises(TypeError, match="declares no ACCESS"):
        list(touches("chalicelib.store.tx:Tx"))
    with pytest.raises(TypeError, match="declares no ACCESS"):
        list(touches("chalicelib.store.repositories_ledger:line"))
    with pytest.raises(AttributeError):
        list(touches("chalicelib.store.repositories_erasure:no_such_step"))


def test_an_unknown_action_or_a_write_on_an_index_is_refused_when_declared():
    from chalicelib.store.models import Account

    with pytest.raises(ValueError, match="GetItems"):
        on(Account, "GetItems")
    with pytest.raises(ValueError, match="only queried"):
        on(Account, "PutItem", index="by_user")
    with pytest.raises(ValueError):
        on(Account)


def test_every_piece_a_lambda_function_names_declares_something():
    named = [*bootstrap.API_TOUCHES, *(p for pieces in bootstrap.STREAM_TOUCHES.values() for p in pieces),
             *(p for job in jobs.JOBS for p in job.touches)]
    assert len(named) > 30
    for piece in named:
        assert list(touches(piece)), piece
    assert all(job.touches for job in jobs.JOBS), "a job that names nothing would get no table at all"


def test_every_repository_and_unit_of_work_class_declares_what_it_touches():
    """A new repository (store/repositories*.py) or unit of work (*uow*.py) is where a feature's new table goes:
    one that declares nothing would be granted nothing, so it is refused here before any flow runs."""
    import importlib
    import inspect
    import pkgutil

    import chalicelib.store as store

    found = []
    for module in pkgutil.iter_modules(store.__path__):
        if module.name.startswith("repositories") or "uow" in module.name:
            loaded = importlib.import_module(f"{store.__name__}.{module.name}")
            found += [(module.name, name, any("ACCESS" in vars(k) for k in value.__mro__))
                      for name, value in vars(loaded).items()
                      if inspect.isclass(value) and value.__module__ == loaded.__name__]
    assert len(found) > 30
    assert [(module, name) for module, name, declared in found if not declared] == []
