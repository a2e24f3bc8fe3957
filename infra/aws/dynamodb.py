"""A PynamoDB model as an `AWS::DynamoDB::Table` resource: keys, indexes, TTL, stream, backups, encryption.

Everything comes from the model (`Model._get_schema()`, its TTLAttribute, `Meta.stream_view_type`), so the
template cannot drift from the code; tests/infra compares the two through DynamoDB Local as well.
"""
from __future__ import annotations

from .models import APP_NAME, TableSpec

_KEY_ORDER = {"HASH": 0, "RANGE": 1}


def key_schema(keys: list[dict]) -> list[dict]:
    """HASH first, as CloudFormation requires."""
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
            for k in sorted(keys, key=lambda k: _KEY_ORDER[k["KeyType"]])]


def _projection(raw: dict) -> dict:
    projection = {"ProjectionType": raw["ProjectionType"]}
    if raw.get("NonKeyAttributes"):
        projection["NonKeyAttributes"] = sorted(raw["NonKeyAttributes"])
    return projection


def _index(raw: dict) -> dict:
    return {"IndexName": raw["index_name"], "KeySchema": key_schema(raw["key_schema"]),
            "Projection": _projection(raw["projection"])}


def table_properties(spec: TableSpec, stage: str) -> dict:
    """The table's CloudFormation properties for one stage (on-demand, PITR, KMS encryption)."""
    schema = spec.schema
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    for index in schema["global_secondary_indexes"] + schema["local_secondary_indexes"]:
        definitions.update({d["AttributeName"]: d["AttributeType"] for d in index["attribute_definitions"]})
    properties: dict = {
        "TableName": spec.table_name(stage),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in sorted(definitions.items())],
        "KeySchema": key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        "DeletionProtectionEnabled": stage == "prod",
        "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": stage},
                 {"Key": "model", "Value": spec.model.__name__}],
    }
    for kind, prop in (("global_secondary_indexes", "GlobalSecondaryIndexes"),
                       ("local_secondary_indexes", "LocalSecondaryIndexes")):
        if schema[kind]:
            properties[prop] = [_index(i) for i in sorted(schema[kind], key=lambda i: i["index_name"])]
    if spec.ttl_attribute:
        properties["TimeToLiveSpecification"] = {"AttributeName": spec.ttl_attribute, "Enabled": True}
    if spec.stream_view_type:
        properties["StreamSpecification"] = {"StreamViewType": spec.stream_view_type}
    return properties


def table_resource(spec: TableSpec, stage: str) -> dict:
    """The resource; prod keeps its tables whatever happens to the stack (Retain on delete and replace)."""
    policy = "Retain" if stage == "prod" else "Delete"
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
            "Properties": table_properties(spec, stage)}
