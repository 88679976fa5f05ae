"""Alarm operations over awsQuery (form bodies, XML replies, XML errors) with botocore's own
SigV4 signer, and boto3's modelled exceptions and paginators over awsJson."""
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

EP = os.environ["HOSTWATCH_ENDPOINT"]
creds = botocore.session.get_session().get_credentials()
NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"
ARN = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"


def query(params: dict):
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = AWSRequest(method="POST", url=EP + "/", data=body, headers=headers)
    SigV4Auth(creds, "monitoring", "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(EP + "/", data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


def ok(params: dict):
    status, root = query(params)
    assert status == 200, (params["Action"], status, ET.tostring(root))
    assert root.tag == NS + params["Action"] + "Response", root.tag
    return root


def text(node, path):
    found = node.find("/".join(NS + p for p in path.split("/")))
    return None if found is None else found.text


# PutMetricAlarm in the query spelling.
ok({
    "Action": "PutMetricAlarm", "AlarmName": "q-alarm", "Namespace": "Q", "MetricName": "m",
    "Dimensions.member.1.Name": "host", "Dimensions.member.1.Value": "h",
    "Statistic": "Average", "Period": "60", "EvaluationPeriods": "2", "DatapointsToAlarm": "1",
    "Threshold": "1.5", "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "ignore",
    "AlarmActions.member.1": "arn:aws:sns:us-east-1:000000000000:t",
    "Tags.member.1.Key": "team", "Tags.member.1.Value": "q",
})
root = ok({"Action": "DescribeAlarms", "AlarmNames.member.1": "q-alarm"})
alarm = root.find(f"{NS}DescribeAlarmsResult/{NS}MetricAlarms/{NS}member")
assert alarm is not None, ET.tostring(root)
assert text(alarm, "AlarmName") == "q-alarm"
assert text(alarm, "AlarmArn") == ARN + "q-alarm"
assert text(alarm, "Threshold") == "1.5"
assert text(alarm, "DatapointsToAlarm") == "1"
assert text(alarm, "Dimensions/member/Value") == "h"
assert text(alarm, "AlarmActions/member") == "arn:aws:sns:us-east-1:000000000000:t"
assert text(alarm, "StateValue") == "INSUFFICIENT_DATA"

# Errors in the query error shape.
status, root = query({"Action": "SetAlarmState", "AlarmName": "q-alarm", "StateValue": "INVALID", "StateReason": "x"})
assert status == 400, status
assert text(root, "Error/Code") == "ValidationError"
assert text(root, "Error/Message") == (
    "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: "
    "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"), ET.tostring(root)
status, root = query({"Action": "SetAlarmState", "AlarmName": "nope", "StateValue": "OK", "StateReason": "x"})
assert status == 404, status
assert text(root, "Error/Code") == "ResourceNotFound"
assert root.find(f"{NS}Error/{NS}Message") is None

# A composite alarm follows its child.
ok({"Action": "PutCompositeAlarm", "AlarmName": "q-comp", "AlarmRule": "ALARM(q-alarm)",
    "AlarmDescription": "composite over query"})
ok({"Action": "SetAlarmState", "AlarmName": "q-alarm", "StateValue": "ALARM", "StateReason": "query test",
    "StateReasonData": json.dumps({"k": 1})})
root = ok({"Action": "DescribeAlarms", "AlarmTypes.member.1": "CompositeAlarm"})
comp = root.find(f"{NS}DescribeAlarmsResult/{NS}CompositeAlarms/{NS}member")
assert text(comp, "AlarmName") == "q-comp"
assert text(comp, "StateValue") == "ALARM", ET.tostring(comp)
assert text(comp, "AlarmRule") == "ALARM(q-alarm)"
assert root.find(f"{NS}DescribeAlarmsResult/{NS}MetricAlarms/{NS}member") is None

root = ok({"Action": "DescribeAlarmHistory", "AlarmName": "q-alarm", "HistoryItemType": "StateUpdate"})
items = root.findall(f"{NS}DescribeAlarmHistoryResult/{NS}AlarmHistoryItems/{NS}member")
assert len(items) == 1, ET.tostring(root)
data = json.loads(text(items[0], "HistoryData"))
assert data["newState"] == {"stateValue": "ALARM", "stateReason": "query test", "stateReasonData": {"k": 1}}, data

# Tags by ARN.
ok({"Action": "TagResource", "ResourceARN": ARN + "q-alarm", "Tags.member.1.Key": "env", "Tags.member.1.Value": "e2e"})
root = ok({"Action": "ListTagsForResource", "ResourceARN": ARN + "q-alarm"})
tags = {text(t, "Key"): text(t, "Value") for t in root.findall(f"{NS}ListTagsForResourceResult/{NS}Tags/{NS}member")}
assert tags == {"team": "q", "env": "e2e"}, tags
ok({"Action": "UntagResource", "ResourceARN": ARN + "q-alarm", "TagKeys.member.1": "team"})
ok({"Action": "DisableAlarmActions", "AlarmNames.member.1": "q-alarm"})

# boto3 (awsJson with x-amzn-query-mode): modelled exceptions and the paginator.
cw = boto3.client("cloudwatch", endpoint_url=EP)
try:
    cw.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="x")
    raise AssertionError("expected ResourceNotFound")
except cw.exceptions.ResourceNotFound:
    pass
try:
    cw.put_composite_alarm(AlarmName="bad", AlarmRule="ALARM(q-alarm) OR")
    raise AssertionError("expected a validation error")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
    assert e.response["Error"]["Message"] == "Error in AlarmRule [Unexpected end of rule at char 17]", e.response
for i in range(7):
    cw.put_metric_alarm(AlarmName=f"page-{i}", Namespace="Q", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
names = []
for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix="page-", PaginationConfig={"PageSize": 3}):
    names += [a["AlarmName"] for a in page["MetricAlarms"]]
assert names == [f"page-{i}" for i in range(7)], names
alarm = cw.describe_alarms(AlarmNames=["q-alarm"])["MetricAlarms"][0]
assert alarm["ActionsEnabled"] is False
assert alarm["StateReasonData"] == json.dumps({"k": 1})
hist = cw.describe_alarm_history(AlarmName="q-comp", AlarmTypes=["CompositeAlarm"])["AlarmHistoryItems"]
assert {h["HistoryItemType"] for h in hist} == {"ConfigurationUpdate", "StateUpdate"}, hist
print("ok")
