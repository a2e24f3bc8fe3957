"""Stream records a handler keeps failing on ("poison records"): bounded retries, then set aside where an
operator sees them (docs/reliability.md, docs/deploy.md: "When the stream-failures alarm fires").

Lambda hands a shard's records to its handler in order, so by default a record the handler fails on is
retried until the stream drops it (24 hours), holding up every record behind it, and nobody is told. Each
stream event source mapping therefore:
- splits a failing batch in two and retries each half (BisectBatchOnFunctionError), down to the one record
  that fails; the records around it go through again, which is harmless: the aggregation inbox files each
  record once (services/aggregate.py);
- retries a batch at most MAX_RETRY_ATTEMPTS times (a split does not count) and never hands over a record
  older than MAX_RECORD_AGE_S, so the shard moves on within hours at worst, while the stream still holds
  the record for the operator to replay;
- sends what it gives up on to one SQS queue per stage: the metadata of the batch (stream, shard, first and
  last sequence numbers), never the records. Encrypted (SSE-SQS), kept 14 days.
An alarm fires as soon as the queue holds a message (notifying AlarmTopicArn when one is given), and only
the stream handlers' roles may send to the queue, and to nothing else.

`FunctionResponseTypes: [ReportBatchItemFailures]` is not declared: the handlers (app.py) return
`{"filed": n}` and raise on a failure, so Lambda could only ever see whole-batch failures anyway.
"""
from __future__ import annotations

from .models import APP_NAME

MAX_RETRY_ATTEMPTS = 10  # retries of a batch after it failed; DynamoDB throttling is already retried inside
MAX_RECORD_AGE_S = 6 * 3600  # rides out an outage or a backlog, and leaves 18 of the stream's 24 hours to replay
QUEUE_RETENTION_S = 14 * 24 * 3600  # SQS's maximum
ALARM_PERIOD_S = 300

QUEUE = "StreamFailuresQueue"
ALARM = "StreamFailuresAlarm"
SEND_POLICY = "StreamFailuresSendPolicy"
ALARM_TOPIC = "AlarmTopicArn"  # template parameter; empty: the alarm notifies no one
HAS_ALARM_TOPIC = "HasAlarmTopic"


def queue_name(stage: str) -> str:
    return f"{APP_NAME}-{stage}-stream-failures"


def role_of(handler: str) -> str:
    """The logical id of a function's role in `chalice package`'s template (one role per function when
    config.json sets autogen_policy false: `<name>_role`)."""
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(f"{handler}_role")


def event_properties() -> dict:
    """What every stream event source mapping adds to Chalice's (Stream, BatchSize, StartingPosition)."""
    return {
        "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
        "BisectBatchOnFunctionError": True,
        "MaximumRecordAgeInSeconds": MAX_RECORD_AGE_S,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [QUEUE, "Arn"]}}},
    }


def resources(stage: str, handlers: list[str]) -> dict:
    """The queue, its alarm, and the stream handlers' permission to send to it; nothing without handlers."""
    if not handlers:
        return {}
    queue = {"Type": "AWS::SQS::Queue", "Properties": {
        "QueueName": queue_name(stage),
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": QUEUE_RETENTION_S,
        "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": stage}]}}
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": queue_name(stage),
        "AlarmDescription": "Stream records the handlers gave up on: leaderboards and stats miss them until "
                            "they are replayed (docs/deploy.md: When the stream-failures alarm fires)",
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]}}],
        "Statistic": "Maximum",
        "Period": ALARM_PERIOD_S,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        # SQS stops reporting a queue nobody touches for 6 hours: keep the alarm's state, never clear it
        "TreatMissingData": "ignore",
        "AlarmActions": {"Fn::If": [HAS_ALARM_TOPIC, [{"Ref": ALARM_TOPIC}], {"Ref": "AWS::NoValue"}]}}}
    send = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "stream-failures-send",
        "Roles": [{"Ref": role_of(handler)} for handler in sorted(handlers)],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "StreamFailures", "Effect": "Allow", "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]}}]}}}
    return {QUEUE: queue, ALARM: alarm, SEND_POLICY: send}


def parameters() -> dict:
    return {ALARM_TOPIC: {"Type": "String", "Default": "",
                          "Description": "SNS topic the alarms notify; empty: none (they still show in CloudWatch)"}}


def conditions() -> dict:
    return {HAS_ALARM_TOPIC: {"Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_TOPIC}, ""]}]}}


def outputs(handlers: list[str]) -> dict:
    if not handlers:
        return {}
    return {"StreamFailuresQueueUrl": {"Description": "where the stream handlers' given-up batches are described",
                                       "Value": {"Ref": QUEUE}}}


def misplaced_roles(template: dict, handlers: list[str]) -> list[str]:
    """In `chalice package`'s merged template: the stream handlers whose role the send policy does not
    name (Chalice named it otherwise), and the names it gives that are no role."""
    if not handlers:
        return []
    found = template["Resources"]
    named = {ref["Ref"] for ref in found.get(SEND_POLICY, {}).get("Properties", {}).get("Roles", [])}
    unnamed = [h for h in handlers if role_of(h) not in named
               or found.get(_logical(h), {}).get("Properties", {}).get("Role") != {"Fn::GetAtt": [role_of(h), "Arn"]}]
    dangling = [name for name in named if found.get(name, {}).get("Type") != "AWS::IAM::Role"]
    return sorted(unnamed + dangling)


def _logical(handler: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return to_cfn_resource_name(handler)
