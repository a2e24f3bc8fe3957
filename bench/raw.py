"""The baselines: the DynamoDB (and WeChat) requests each operation cannot avoid, made directly with boto3.

Same items, same sizes, same transaction shapes as the app's, without any of our code around them.
"""
from __future__ import annotations

import json
import secrets
import time

import boto3
import requests

from bench import raw_checkin
from chalicelib.settings import get_settings


class Raw:
    def __init__(self) -> None:
        settings = get_settings()
        self.prefix = settings.table_prefix
        self.client = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint)
        self.http = requests.Session()
        self.settings = settings

    def table(self, name: str) -> str:
        return self.prefix + name

    def checkin(self, user_id: str, rid: str) -> None:
        raw_checkin.checkin(self.client, self.prefix, user_id, rid)

    def ledger_page(self, user_id: str) -> None:
        self.client.query(TableName=self.table("ledger"), KeyConditionExpression="user_id = :u",
                          ExpressionAttributeValues={":u": {"S": user_id}}, ScanIndexForward=False, Limit=20)

    def login(self, openid: str, code: str, user_id: str) -> None:
        """jscode2session over HTTP, the identity update (returning login) and the account read."""
        self.http.get(self.settings.wechat_api_base + "/sns/jscode2session", timeout=3, params={
            "appid": self.settings.wechat_appid, "secret": self.settings.wechat_secret, "js_code": code,
            "grant_type": "authorization_code"}).json()
        self.client.update_item(TableName=self.table("identities"), Key={"key": {"S": f"wx#{openid}"}},
                                UpdateExpression="SET session_key_sealed = :s, last_login_at = :t",
                                ConditionExpression="attribute_exists(#k)", ExpressionAttributeNames={"#k": "key"},
                                ExpressionAttributeValues={":s": {"S": "v1:" + secrets.token_urlsafe(60)},
                                                           ":t": {"S": time.strftime("%Y-%m-%dT%H:%M:%S+08:00")}},
                                ReturnValues="ALL_NEW")
        self.client.get_item(TableName=self.table("accounts"), Key={"user_id": {"S": user_id}})

    def flash_redeem(self, user_id: str, rid: str, goods_id: str, shard: int) -> int:
        """A redemption of one unit from stock shard `shard` of a goods without a per-user limit (six actions),
        tried again on a conflicting transaction as the app's unit of work does: 201, or 0 once refused."""
        from botocore.exceptions import ClientError

        stock_item = f"goods#{goods_id}" if not shard else f"goods#{goods_id}#{shard}"
        for attempt in range(12):
            try:
                self.redeem(user_id, rid, goods_id, 1, stock_item=stock_item, claim=False)
                return 201
            except ClientError as exc:
                reasons = exc.response.get("CancellationReasons") or []
                if any((reason or {}).get("Code") == "ConditionalCheckFailed" for reason in reasons):
                    return 0
                time.sleep(0.005 * (attempt + 1))
        return 0

    def redeem(self, user_id: str, rid: str, goods_id: str, price: int, stock_item: str | None = None,
               claim: bool = True) -> None:
        """GetItem of the account, then the redemption's transaction of seven actions like the app's."""
        account = self.client.get_item(TableName=self.table("accounts"), Key={"user_id": {"S": user_id}},
                                       ConsistentRead=True)["Item"]
        version, points = int(account["version"]["N"]), int(account["points"]["N"]) - price
        now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        redemption_id = f"{int(time.time() * 1000):013d}{secrets.token_hex(8)}"[:26]
        entry_id = f"{int(time.time() * 1000):013d}{secrets.token_hex(8)}"[:26]
        code = secrets.token_hex(8).upper()
        expires = int(time.time()) + 30 * 86400
        body = json.dumps({"redemption": {"id": redemption_id, "goods_id": goods_id, "code": code,
                                          "status": "issued", "points_spent": price}, "points": points},
                          separators=(",", ":"))
        common = {"goods_id": {"S": goods_id}, "goods_name": {"S": "基准商品"}, "merchant_id": {"S": "m-cafe"},
                  "points_spent": {"N": str(price)}, "expires_epoch": {"N": str(expires)}}
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table("idempotency"), "ConditionExpression": "attribute_not_exists(#k)",
                     "ExpressionAttributeNames": {"#k": "key"}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                     "Item": {"key": {"S": f"{user_id}#{rid}"}, "route": {"S": "POST /v1/market/goods/{id}/redeem"},
                              "fingerprint": {"S": secrets.token_hex(32)}, "status": {"N": "201"},
                              "body": {"S": body}, "created_at": {"S": now},
                              "expires_at": {"N": str(int(time.time()) + 172800)}}}},
            {"Put": {"TableName": self.table("ledger"), "ConditionExpression": "attribute_not_exists(entry_id)",
                     "Item": {"user_id": {"S": user_id}, "entry_id": {"S": entry_id},
                              "user_kind": {"S": f"{user_id}#spend"}, "at": {"S": now}, "day": {"S": now[:10]},
                              "kind": {"S": "spend"}, "points": {"N": str(-price)}, "carbon_mg": {"N": "0"},
                              "balance_after": {"N": str(points)}, "source": {"S": "market"},
                              "ref": {"S": redemption_id}, "request_id": {"S": rid}}}},
            {"Put": {"TableName": self.table("redemptions"),
                     "ConditionExpression": "attribute_not_exists(redemption_id)",
                     "Item": {"redemption_id": {"S": redemption_id}, "user_id": {"S": user_id}, "code": {"S": code},
                              "kind": {"S": "coupon"}, "status": {"S": "issued"}, "created_at": {"S": now},
                              "expires_at": {"S": now}, "expiry_bucket": {"S": "due#3"},
                              "cancellable": {"BOOL": True}, "refund_on_expiry": {"BOOL": False},
                              "request_id": {"S": rid}, **common}}},
            {"Put": {"TableName": self.table("redemption_codes"), "ConditionExpression": "attribute_not_exists(code)",
                     "Item": {"code": {"S": code}, "redemption_id": {"S": redemption_id}, **common}}},
            {"Update": {"TableName": self.table("stock"), "Key": {"item": {"S": stock_item or f"goods#{goods_id}"}},
                        "UpdateExpression": "ADD #l :minus", "ConditionExpression": "#l > :zero",
                        "ExpressionAttributeNames": {"#l": "left"},
                        "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":zero": {"N": "0"}}}},
            *([{"Update": {"TableName": self.table("counters"),
                           "Key": {"key": {"S": f"claim#{user_id}#{goods_id}"}}, "UpdateExpression": "ADD #c :one",
                           "ConditionExpression": "attribute_not_exists(#c) OR #c < :limit",
                           "ExpressionAttributeNames": {"#c": "count"},
                           "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": "1000"}}}}]
              if claim else []),
            {"Update": {"TableName": self.table("accounts"), "Key": {"user_id": {"S": user_id}},
                        "ConditionExpression": "attribute_exists(user_id) AND version = :v",
                        "UpdateExpression": "SET version = :nv, points = :p, points_spent = points_spent + :price, "
                                            "updated_at = :u",
                        "ExpressionAttributeValues": {":v": {"N": str(version)}, ":nv": {"N": str(version + 1)},
                                                      ":p": {"N": str(points)}, ":price": {"N": str(price)},
                                                      ":u": {"S": now}}}},
        ], ClientRequestToken=secrets.token_hex(16))

    def webhook(self, user_ids: list[str], rides_per_user: int) -> int:
        """The writes a batch needs: one BatchGetItem of the riders' accounts (consistent), then per rider one
        transaction of its rides' entries and seen-ride markers, the account and the month's summary."""
        calls = 0
        for start in range(0, len(user_ids), 100):
            keys = [{"user_id": {"S": u}} for u in user_ids[start:start + 100]]
            self.client.batch_get_item(RequestItems={self.table("accounts"): {"Keys": keys, "ConsistentRead": True}})
            calls += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        for user_id in user_ids:
            actions = []
            for _ in range(rides_per_user):
                ride = f"r_raw_{secrets.token_hex(8)}"
                entry_id = f"{int(time.time() * 1000):013d}{secrets.token_hex(8)}"[:26]
                actions.append({"Put": {"TableName": self.table("partner_events"),
                                        "ConditionExpression": "attribute_not_exists(#k)",
                                        "ExpressionAttributeNames": {"#k": "key"},
                                        "Item": {"key": {"S": f"transit#{ride}"}, "user_id": {"S": user_id},
                                                 "at": {"S": now}}}})
                actions.append({"Put": {"TableName": self.table("ledger"),
                                        "ConditionExpression": "attribute_not_exists(entry_id)",
                                        "Item": {"user_id": {"S": user_id}, "entry_id": {"S": entry_id},
                                                 "user_kind": {"S": f"{user_id}#earn"}, "at": {"S": now},
                                                 "day": {"S": now[:10]}, "kind": {"S": "earn"},
                                                 "points": {"N": "10"}, "carbon_mg": {"N": "80000"},
                                                 "balance_after": {"N": "10"}, "source": {"S": "transit"},
                                                 "behavior": {"S": "bus_ride"}, "ref": {"S": ride},
                                                 "methodology_id": {"S": "LZ-bus-ride"},
                                                 "methodology_version": {"S": "2024.1"},
                                                 "inputs": {"S": '{"quantity":"1","counted_quantity":"1"}'}}}})
            actions.append({"Update": {"TableName": self.table("accounts"), "Key": {"user_id": {"S": user_id}},
                                       "UpdateExpression": "SET points = points + :p, version = version + :one",
                                       "ConditionExpression": "attribute_exists(user_id)",
                                       "ExpressionAttributeValues": {":p": {"N": "10"}, ":one": {"N": "1"}}}})
            actions.append({"Update": {"TableName": self.table("summaries"),
                                       "Key": {"user_id": {"S": user_id}, "period": {"S": f"{now[:7]}#bus_ride"}},
                                       "UpdateExpression": "ADD events :n, carbon_mg :c, points :p",
                                       "ExpressionAttributeValues": {":n": {"N": str(rides_per_user)},
                                                                     ":c": {"N": "80000"}, ":p": {"N": "10"}}}})
            self.client.transact_write_items(TransactItems=actions)
            calls += 1
        return calls
