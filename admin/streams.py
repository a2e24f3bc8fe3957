"""What AWS Lambda's stream event sources do, for DynamoDB Local: `python -m admin run-jobs` drains the
streams of the ledger and identities tables into the same handlers AWS calls (services/aggregate.py).

The stream of a table comes from DescribeTable's LatestStreamArn; its shards are read with
GetShardIterator/GetRecords from the position remembered in the `agg_counters` table ("stream#{arn}",
shard id), saved after each batch is handled; an idle drain costs a GetShardIterator and a GetRecords per
stream. A batch handled again after a crash, or by two drains at once, is harmless: the handlers file each
record once.
"""
from __future__ import annotations

import time

import boto3
from botocore.exceptions import ClientError

from chalicelib.services import aggregate
from chalicelib.settings import get_settings
from chalicelib.store.aggregates import ShardedCounter
from chalicelib.store.models import Identity, LedgerEntry

BATCH = 1000
REFRESH_SECONDS = 60.0  # how often the tables' streams and their shards are described again
STREAMS = ((LedgerEntry, aggregate.accept_ledger), (Identity, aggregate.accept_identities))
_client = None
_known: dict[str, tuple[float, str | None, list[dict]]] = {}  # table -> (when, stream arn, shards)
_readers: dict[tuple[str, str], _ShardReader] = {}  # (arn, shard id) -> where this process reads


def drain() -> dict[str, int]:
    """Handles every record not yet handled; {table: records read}. Nothing off DynamoDB Local: in AWS
    the Lambda event source mappings deliver the streams."""
    if not get_settings().dynamodb_endpoint:
        return {}
    read = {}
    for model, handler in STREAMS:
        arn, shards = _stream_of(model)
        if arn:
            read[model.Meta.table_name] = sum(_reader(arn, shard["ShardId"]).drain(handler) for shard in shards)
    return read


def _reader(arn: str, shard_id: str) -> _ShardReader:
    if (arn, shard_id) not in _readers:
        _readers[(arn, shard_id)] = _ShardReader(arn, shard_id)
    return _readers[(arn, shard_id)]


class _ShardReader:
    """One shard and its remembered position (loaded once per process, saved after each batch)."""

    def __init__(self, arn: str, shard_id: str) -> None:
        self.arn, self.shard_id, self.iterator = arn, shard_id, None
        try:
            self.position = ShardedCounter.get(f"stream#{arn}", shard_id, consistent_read=True)
        except ShardedCounter.DoesNotExist:
            self.position = ShardedCounter(f"stream#{arn}", shard_id)

    def drain(self, handler) -> int:
        read, self.iterator = 0, None  # DynamoDB Local refuses an iterator kept past an empty read
        while not self.position.done:
            page = self._page()
            records = page.get("Records", [])
            if records:
                handler(records)
                read += len(records)
                self.position.position = records[-1]["dynamodb"]["SequenceNumber"]
            self.iterator = page.get("NextShardIterator")
            self.position.done = not self.iterator  # a closed shard, read to its end
            if records or self.position.done:
                self.position.save()
            if not records:
                break  # an open shard with nothing new
        return read

    def _page(self) -> dict:
        for _ in range(2):
            if self.iterator is None:
                self.iterator = _iterator(self.arn, self.shard_id, self.position.position)
            try:
                return _streams().get_records(ShardIterator=self.iterator, Limit=BATCH)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ExpiredIteratorException":
                    raise
                self.iterator = None  # iterators last 15 minutes: start again from the saved position
        raise RuntimeError(f"cannot read shard {self.shard_id} of {self.arn}")


def _stream_of(model) -> tuple[str | None, list[dict]]:
    name = model.Meta.table_name
    when, arn, shards = _known.get(name, (-1e9, None, []))
    if time.monotonic() - when >= REFRESH_SECONDS:
        arn = model.describe_table().get("LatestStreamArn")
        shards = _shards(arn) if arn else []
        _known[name] = (time.monotonic(), arn, shards)
    return arn, shards


def _streams():
    global _client
    if _client is None:
        settings = get_settings()
        _client = boto3.client("dynamodbstreams", endpoint_url=settings.dynamodb_endpoint,
                               region_name=settings.aws_region)
    return _client


def _shards(arn: str) -> list[dict]:
    shards, start = [], None
    while True:
        kwargs = {"StreamArn": arn, **({"ExclusiveStartShardId": start} if start else {})}
        description = _streams().describe_stream(**kwargs)["StreamDescription"]
        shards += description.get("Shards", [])
        start = description.get("LastEvaluatedShardId")
        if not start:
            return shards


def _iterator(arn: str, shard_id: str, after: str | None) -> str | None:
    kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after \
        else {"ShardIteratorType": "TRIM_HORIZON"}
    try:
        return _streams().get_shard_iterator(StreamArn=arn, ShardId=shard_id, **kwargs)["ShardIterator"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TrimmedDataAccessException":
            raise
        # The remembered position is older than the stream keeps (24 hours): start from what is left.
        return _streams().get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
