"""boto3 raises CloudWatch's modelled exceptions from the collector's error replies."""
import datetime
import os
import sys

import boto3

ep = os.environ["HOSTWATCH_ENDPOINT"]
cw = boto3.client("cloudwatch", endpoint_url=ep)

three_weeks_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(weeks=3)
try:
    cw.put_metric_data(Namespace="E2E", MetricData=[{"MetricName": "old", "Value": 1.0, "Timestamp": three_weeks_ago}])
    sys.exit("a datum three weeks old was accepted")
except cw.exceptions.InvalidParameterValueException as e:
    msg = e.response["Error"]["Message"]
    assert msg == "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.", msg
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400

try:
    cw.put_metric_data(Namespace="E2E", MetricData=[{"MetricName": "m", "Value": 1.0, "Values": [1.0]}])
    sys.exit("Value and Values together were accepted")
except cw.exceptions.InvalidParameterCombinationException as e:
    assert "mutually exclusive" in e.response["Error"]["Message"], e.response

now = datetime.datetime.now(datetime.timezone.utc)
try:
    cw.get_metric_statistics(Namespace="E2E", MetricName="m", StartTime=now, EndTime=now - datetime.timedelta(hours=1),
                             Period=60, Statistics=["Sum"])
    sys.exit("StartTime after EndTime was accepted")
except cw.exceptions.InvalidParameterValueException as e:
    assert e.response["Error"]["Message"] == "The parameter StartTime must be less than the parameter EndTime.", e.response

logs = boto3.client("logs", endpoint_url=ep)
try:
    logs.put_log_events(logGroupName="nope", logStreamName="nope", logEvents=[{"timestamp": 1, "message": "x"}])
    sys.exit("PutLogEvents to a missing group was accepted")
except logs.exceptions.ResourceNotFoundException as e:
    assert e.response["Error"]["Message"] == "The specified log group does not exist.", e.response
print("ok")
