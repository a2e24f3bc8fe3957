"""A stream record the handlers keep failing on (a "poison record") neither blocks its shard for the
stream's 24 hours nor disappears unseen: every stream event source mapping of both stages retries a few
times, bisects, gives up on old records, and describes what it gave up on in an encrypted queue that an
alarm watches; only the stream handlers may send to that queue (infra/aws/stream_failures.py)."""
from __future__ import annotations

import json

import pytest

from infra.aws import package, stream_failures
from infra.aws.build_template import build, cfn_name
from infra.aws.functions import StageFunctions, stage_functions
from infra.aws.policy import policy_file

STAGES = ("dev", "prod")
DAY_S = 24 * 3600


@pytest.fixture(scope="module")
def templates():
    return {stage: build(stage) for stage in STAGES}


def of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def stream_events(stage: str, template: dict) -> dict[str, dict]:
    """handler -> the Properties of its one stream event; refuses a stage without stream handlers."""
    handlers = stage_functions(stage).streams
    assert handlers, f"{stage}: app.py registers no stream handler, nothing here would be checked"
    events = {}
    for handler in handlers:
        (event,) = template["Resources"][cfn_name(handler)]["Properties"]["Events"].values()
        events[handler] = event["Properties"]
    return events


def the_queue(template: dict) -> tuple[str, dict]:
    (queue,) = of_type(template, "AWS::SQS::Queue").items()
    return queue


@pytest.mark.parametrize("stage", STAGES)
def test_every_stream_mapping_retries_a_few_times_bisects_and_gives_up_on_old_records(templates, stage):
    for handler, event in stream_events(stage, templates[stage]).items():
        assert 1 <= event["MaximumRetryAttempts"] <= 10, handler  # the default, -1, retries for 24 hours
        assert event["BisectBatchOnFunctionError"] is True, handler
        assert 60 <= event["MaximumRecordAgeInSeconds"] <= DAY_S // 4, handler  # leaves most of the day to replay


@pytest.mark.parametrize("stage", STAGES)
def test_every_stream_mapping_describes_what_it_gives_up_on_in_the_failures_queue(templates, stage):
    queue, _ = the_queue(templates[stage])
    for handler, event in stream_events(stage, templates[stage]).items():
        assert event["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}}, handler


@pytest.mark.parametrize("stage", STAGES)
def test_batch_item_failures_are_not_declared_while_the_handlers_do_not_report_them(templates, stage):
    """app.py's stream handlers return {"filed": n} and raise on a failure: declaring ReportBatchItemFailures
    would promise a partial-batch answer they never give."""
    for handler, event in stream_events(stage, templates[stage]).items():
        assert "FunctionResponseTypes" not in event, handler


@pytest.mark.parametrize("stage", STAGES)
def test_the_failures_queue_is_the_stage_s_own_encrypted_and_kept_14_days(templates, stage):
    _, queue = the_queue(templates[stage])
    props = queue["Properties"]
    assert props["QueueName"] == f"greensprout-{stage}-stream-failures"
    assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId")
    assert props["MessageRetentionPeriod"] == 14 * DAY_S
    assert not props.get("FifoQueue")  # Lambda's on-failure destinations are standard queues only


@pytest.mark.parametrize("stage", STAGES)
def test_an_alarm_fires_as_soon_as_the_queue_holds_a_message(templates, stage):
    template = templates[stage]
    queue, _ = the_queue(template)
    (alarm,) = of_type(template, "AWS::CloudWatch::Alarm").values()
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (props["ComparisonOperator"], props["Threshold"], props["EvaluationPeriods"]) == \
        ("GreaterThanThreshold", 0, 1)
    assert props["TreatMissingData"] != "notBreaching"  # an idle queue stops reporting: that is no all-clear
    # it notifies the operator's SNS topic when the stack is given one
    assert props["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_stream_handlers_may_send_and_only_to_the_failures_queue(templates, stage):
    template = templates[stage]
    queue, _ = the_queue(template)
    granted = [(name, s) for name, p in of_type(template, "AWS::IAM::Policy").items()
               for s in p["Properties"]["PolicyDocument"]["Statement"] if "sqs:" in json.dumps(s["Action"])]
    ((name, statement),) = granted
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sqs:SendMessage")
    assert statement["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
    roles = [r["Ref"] for r in template["Resources"][name]["Properties"]["Roles"]]
    assert sorted(roles) == sorted(f"{cfn_name(h)}Role" for h in stage_functions(stage).streams)
    # every function's own policy (.chalice/policy-STAGE-FUNCTION.json) touches no queue
    for function in stage_functions(stage).names:
        assert "sqs:" not in policy_file(stage, function).read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", STAGES)
def test_the_stream_handlers_wait_for_their_permission_to_send(templates, stage):
    """Lambda refuses an on-failure destination the role cannot send to; the mapping follows its function."""
    for handler in stage_functions(stage).streams:
        assert stream_failures.SEND_POLICY in templates[stage]["Resources"][cfn_name(handler)]["DependsOn"]


def test_packaging_fails_when_chalice_gives_a_stream_handler_another_role(monkeypatch):
    found = StageFunctions(names=("api_handler", "ledger_stream"), pure=(), streams={"ledger_stream": "t"},
                           stream_variables={})
    monkeypatch.setattr(package, "stage_functions", lambda stage: found)
    stream = {"Events": {"E": {"Type": "DynamoDB", "Properties": {}}}, "Role": {"Fn::GetAtt": ["LedgerStreamRole",
                                                                                               "Arn"]}}
    template = {"Resources": {
        "APIHandler": {"Properties": {}}, "LedgerStream": {"Properties": stream},
        "LedgerStreamRole": {"Type": "AWS::IAM::Role"},
        **stream_failures.resources("dev", ["ledger_stream"])}}
    package.check_triggers("dev", template)
    stream["Role"] = {"Fn::GetAtt": ["DefaultRole", "Arn"]}
    with pytest.raises(package.PackageError, match="ledger_stream"):
        package.check_triggers("dev", template)
    stream["Role"] = {"Fn::GetAtt": ["LedgerStreamRole", "Arn"]}
    del template["Resources"]["LedgerStreamRole"]
    with pytest.raises(package.PackageError, match="LedgerStreamRole"):
        package.check_triggers("dev", template)
