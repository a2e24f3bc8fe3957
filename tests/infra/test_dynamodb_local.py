"""The local DynamoDB server of the tests, the bench and `make run` (infra/local/dynamodb_local.py)."""
from __future__ import annotations

import boto3
import pytest

from infra.local.dynamodb_local import DynamoDBLocal, PortTakenError


def tables(endpoint: str) -> list[str]:
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint,
                          aws_access_key_id="local", aws_secret_access_key="local")
    return client.list_tables()["TableNames"]


@pytest.fixture(scope="module")
def first():
    with DynamoDBLocal() as server:
        boto3.client("dynamodb", region_name="us-east-1", endpoint_url=server.endpoint,
                     aws_access_key_id="local", aws_secret_access_key="local").create_table(
            TableName="someone-elses", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        yield server


def test_a_free_port_taken_before_the_server_binds_it_is_chosen_again_and_no_suite_shares_tables(first):
    second = DynamoDBLocal()
    second.port = first.port  # as when another suite's server took the port between free_port() and java
    with second:
        assert second.port != first.port
        assert tables(second.endpoint) == []
    assert tables(first.endpoint) == ["someone-elses"]


def test_a_port_the_caller_chose_that_is_taken_is_an_error_not_another_server(first):
    with pytest.raises(PortTakenError):
        DynamoDBLocal(port=first.port).start()
