"""The check-in's requests as raw (bench/raw.py) and the cold-start floor (bench/cold.py) make them: a consistent
GetItem of the account, then one transaction of four actions like the app's. Only the standard library: the
floor's fresh process imports nothing but what a check-in cannot do without."""
from __future__ import annotations

import json
import secrets
import time


def checkin(client, prefix: str, user_id: str, rid: str) -> None:
    """GetItem of the account (consistent), then one transaction of four actions like the app's."""
    account = client.get_item(TableName=prefix + "accounts", Key={"user_id": {"S": user_id}},
                              ConsistentRead=True)["Item"]
    version = int(account["version"]["N"])
    points = int(account["points"]["N"]) + 5
    carbon = int(account["carbon_mg"]["N"]) + 144000
    now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    day = now[:10]
    entry_id = f"{int(time.time() * 1000):013d}{secrets.token_hex(8)}"[:26]
    daily = json.dumps({day: {"bench_unlimited": [version + 1, points, (version + 1) * 1000, carbon]}})
    body = json.dumps({"entry": {"id": entry_id, "at": now, "kind": "earn", "points": 5, "carbon_g": 144.0,
                                 "behavior": "bench_unlimited", "source": "checkin", "ref": None,
                                 "methodology": {"id": "BENCH", "version": "1"}, "balance_after": points},
                       "points": points, "carbon_g": carbon / 1000}, separators=(",", ":"))
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": prefix + "idempotency", "ConditionExpression": "attribute_not_exists(#k)",
                 "ExpressionAttributeNames": {"#k": "key"},
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                 "Item": {"key": {"S": f"{user_id}#{rid}"}, "route": {"S": "POST /v1/checkins"},
                          "fingerprint": {"S": secrets.token_hex(32)}, "status": {"N": "201"},
                          "body": {"S": body}, "created_at": {"S": now},
                          "expires_at": {"N": str(int(time.time()) + 172800)}}}},
        {"Put": {"TableName": prefix + "ledger", "ConditionExpression": "attribute_not_exists(entry_id)",
                 "Item": {"user_id": {"S": user_id}, "entry_id": {"S": entry_id},
                          "user_kind": {"S": f"{user_id}#earn"}, "at": {"S": now}, "day": {"S": day},
                          "kind": {"S": "earn"}, "points": {"N": "5"}, "carbon_mg": {"N": "144000"},
                          "balance_after": {"N": str(points)}, "source": {"S": "checkin"},
                          "behavior": {"S": "bench_unlimited"}, "methodology_id": {"S": "BENCH"},
                          "methodology_version": {"S": "1"}, "inputs": {"S": '{"quantity":"1"}'},
                          "request_id": {"S": rid}}}},
        {"Update": {"TableName": prefix + "accounts", "Key": {"user_id": {"S": user_id}},
                    "ConditionExpression": "attribute_exists(user_id) AND version = :v",
                    "UpdateExpression": "SET version = :nv, points = :p, carbon_mg = :c, points_earned = :pe, "
                                        "points_spent = :ps, daily = :d, updated_at = :u",
                    "ExpressionAttributeValues": {
                        ":v": {"N": str(version)}, ":nv": {"N": str(version + 1)}, ":p": {"N": str(points)},
                        ":c": {"N": str(carbon)}, ":pe": {"N": str(points)}, ":ps": {"N": "0"},
                        ":d": {"S": daily}, ":u": {"S": now}}}},
        {"Update": {"TableName": prefix + "summaries",
                    "Key": {"user_id": {"S": user_id}, "period": {"S": f"{day[:7]}#bench_unlimited"}},
                    "UpdateExpression": "ADD events :one, carbon_mg :c, points :p",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":c": {"N": "144000"}, ":p": {"N": "5"}}}},
    ], ClientRequestToken=secrets.token_hex(16))
