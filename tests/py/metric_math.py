"""GetMetricData metric math and anomaly detection through boto3: SUM(METRICS()), m1/m2*100,
FILL(m1, 0), ANOMALY_DETECTION_BAND(m1, 2), a syntax error, and the anomaly detector operations."""
import datetime
import math
import os
import sys
import time

import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

cw = boto3.client("cloudwatch", endpoint_url=os.environ["HOSTWATCH_ENDPOINT"])
UTC = datetime.timezone.utc


def at(secs):
    return datetime.datetime.fromtimestamp(secs, UTC)


def query(params):
    """An awsQuery request signed with botocore's signer; returns the parsed XML."""
    ep = os.environ["HOSTWATCH_ENDPOINT"] + "/"
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    req = AWSRequest(method="POST", url=ep, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(botocore.session.get_session().get_credentials(), "monitoring", "us-east-1").add_auth(req)
    r = urllib.request.Request(ep, data=body, headers=dict(req.prepare().headers), method="POST")
    with urllib.request.urlopen(r) as resp:
        return ET.fromstring(resp.read())


NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"


def metric(mid, name, period, stat, return_data=False):
    return {"Id": mid, "ReturnData": return_data,
            "MetricStat": {"Metric": {"Namespace": "MathE2E", "MetricName": name}, "Period": period, "Stat": stat}}


now = int(time.time())

# Ten minutes of errors (with a gap) and requests.
minute0 = (now // 60 - 12) * 60
data = []
for i in range(10):
    ts = at(minute0 + i * 60 + 5)
    if i != 4:
        data.append({"MetricName": "errors", "Value": float(i + 1), "Timestamp": ts})
    data.append({"MetricName": "requests", "Value": 10.0 * (i + 1), "Timestamp": ts})
cw.put_metric_data(Namespace="MathE2E", MetricData=data)

out = cw.get_metric_data(
    MetricDataQueries=[
        metric("m1", "errors", 60, "Sum"),
        metric("m2", "requests", 60, "Sum"),
        {"Id": "total", "Expression": "SUM(METRICS())"},
        {"Id": "rate", "Expression": "m1/m2*100", "Label": "Error rate"},
        {"Id": "filled", "Expression": "FILL(m1, 0)"},
    ],
    StartTime=at(minute0), EndTime=at(minute0 + 600), ScanBy="TimestampAscending")
results = {r["Id"]: r for r in out["MetricDataResults"]}
assert sorted(results) == ["filled", "rate", "total"], out
expected_ts = [at(minute0 + i * 60) for i in range(10)]
for r in results.values():
    assert r["Timestamps"] == expected_ts, r
    assert r["StatusCode"] == "Complete", r
assert results["total"]["Values"] == [50.0 if i == 4 else 11.0 * (i + 1) for i in range(10)], results["total"]
assert results["rate"]["Values"] == [0.0 if i == 4 else 10.0 for i in range(10)], results["rate"]
assert results["rate"]["Label"] == "Error rate", results["rate"]
assert results["filled"]["Values"] == [0.0 if i == 4 else float(i + 1) for i in range(10)], results["filled"]

# The same through awsQuery (form body, XML reply).
root = query({
    "Action": "GetMetricData", "ScanBy": "TimestampAscending",
    "StartTime": at(minute0).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "EndTime": at(minute0 + 600).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "MetricDataQueries.member.1.Id": "m1", "MetricDataQueries.member.1.ReturnData": "false",
    "MetricDataQueries.member.1.MetricStat.Metric.Namespace": "MathE2E",
    "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "errors",
    "MetricDataQueries.member.1.MetricStat.Period": "60", "MetricDataQueries.member.1.MetricStat.Stat": "Sum",
    "MetricDataQueries.member.2.Id": "filled", "MetricDataQueries.member.2.Expression": "FILL(m1, 0)",
})
members = root.findall(f"{NS}GetMetricDataResult/{NS}MetricDataResults/{NS}member")
assert [m.find(NS + "Id").text for m in members] == ["filled"], ET.tostring(root)
got = [float(v.text) for v in members[0].findall(f"{NS}Values/{NS}member")]
assert got == results["filled"]["Values"], got

# Two days of a metric with a daily cycle at five-minute resolution, then a spike.
now5 = (now // 300) * 300
history = []
for k in range(1, 577):
    t = now5 - k * 300
    value = 50 + 10 * math.sin(2 * math.pi * (t % 86400) / 86400) + ((k * 37) % 7) / 7 - 0.5
    history.append({"MetricName": "load", "Value": value, "Timestamp": at(t)})
history.append({"MetricName": "load", "Value": 500.0, "Timestamp": at(now5 - 150)})
cw.put_metric_data(Namespace="MathE2E", MetricData=history)

out = cw.get_metric_data(
    MetricDataQueries=[metric("m1", "load", 300, "Average", True),
                       {"Id": "ad", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}],
    StartTime=at(now5 - 7200), EndTime=at(now5), ScanBy="TimestampAscending")
res = out["MetricDataResults"]
assert [r["Id"] for r in res] == ["m1", "ad", "ad"], res
values, upper, lower = res[0]["Values"], res[1]["Values"], res[2]["Values"]
assert len(values) == 24 and len(upper) == 24 and len(lower) == 24, res
assert res[1]["Timestamps"] == res[0]["Timestamps"], res
inside = sum(1 for v, hi, lo in zip(values[:-1], upper, lower) if lo < v < hi)
assert inside >= 21, (inside, values, upper, lower)
assert all(hi > lo for hi, lo in zip(upper, lower)), res
assert values[-1] > upper[-1], (values[-1], upper[-1])

# Syntax errors cite the position.
try:
    cw.get_metric_data(MetricDataQueries=[metric("m1", "errors", 60, "Sum"),
                                          {"Id": "e1", "Expression": "m1 * (2"}],
                       StartTime=at(minute0), EndTime=at(minute0 + 600))
    sys.exit("a broken expression was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationError", e.response
    assert e.response["Error"]["Message"] == "Error in expression e1: Syntax error at position 8", e.response

# Anomaly detector operations.
detector = {"Namespace": "MathE2E", "MetricName": "load", "Stat": "Average"}
cw.put_anomaly_detector(SingleMetricAnomalyDetector=detector, Configuration={
    "ExcludedTimeRanges": [{"StartTime": at(now5 - 3600), "EndTime": at(now5)}], "MetricTimezone": "UTC"})
found = cw.describe_anomaly_detectors(Namespace="MathE2E")["AnomalyDetectors"]
assert len(found) == 1, found
assert found[0]["SingleMetricAnomalyDetector"]["MetricName"] == "load", found
assert found[0]["StateValue"] == "TRAINED", found
assert found[0]["Configuration"]["ExcludedTimeRanges"][0]["StartTime"] == at(now5 - 3600), found
root = query({"Action": "DescribeAnomalyDetectors", "Namespace": "MathE2E"})
names = [e.text for e in root.iter(NS + "MetricName")]
assert names == ["load", "load"], ET.tostring(root)  # top level and SingleMetricAnomalyDetector
cw.delete_anomaly_detector(SingleMetricAnomalyDetector=detector)
try:
    cw.delete_anomaly_detector(SingleMetricAnomalyDetector=detector)
    sys.exit("deleting a missing detector succeeded")
except cw.exceptions.ResourceNotFoundException:
    pass
assert cw.describe_anomaly_detectors(Namespace="MathE2E")["AnomalyDetectors"] == []
print("ok")
