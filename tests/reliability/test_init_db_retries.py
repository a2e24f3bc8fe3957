"""`python -m admin init-db` on a DynamoDB that answers late: botocore retries a CreateTable whose first
attempt made the table, and that table, found by the retry, is ours (the suite's set-up failed so under load:
'Cannot create preexisting table')."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import boto3

from tests.support.faultproxy import FaultProxy, Faults, dynamodb_error


def test_init_db_takes_the_table_its_unanswered_create_made(stack):
    proxy = FaultProxy(stack.dynamodb.port, Faults()).start()
    lost = []

    def lose_the_first_answer(operation: str, request: bytes) -> bytes | None:
        if operation != "CreateTable" or lost:
            return None
        with socket.create_connection(proxy.upstream) as upstream:  # DynamoDB makes the table ...
            upstream.sendall(request)
            lost.append(FaultProxy._message(upstream))
        return dynamodb_error("InternalServerError", status=500)  # ... and the client hears a failure

    proxy.answer = lose_the_first_answer
    prefix = f"gs-init-{uuid.uuid4().hex[:8]}-"
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint, "TABLE_PREFIX": prefix}
    try:
        done = subprocess.run([sys.executable, "-m", "admin", "init-db"], env=env, capture_output=True, text=True,
                              timeout=300)
    finally:
        proxy.stop()

    assert done.returncode == 0, done.stderr
    assert lost and [op for _, op in proxy.seen].count("CreateTable") >= 2  # the retry met the table
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=stack.dynamodb.endpoint,
                          aws_access_key_id="local", aws_secret_access_key="local")
    names = [n for n in client.list_tables(Limit=100)["TableNames"] if n.startswith(prefix)]
    assert names and all(client.describe_table(TableName=n)["Table"]["TableStatus"] == "ACTIVE" for n in names)
    for name in names:
        client.delete_table(TableName=name)
