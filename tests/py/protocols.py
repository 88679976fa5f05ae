"""awsJson 1.0 and awsQuery requests for the same data store the same thing, and each protocol is
answered in its own format. Requests are signed with botocore's own SigV4 signer."""
import datetime
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

EP = os.environ["HOSTWATCH_ENDPOINT"]
creds = botocore.session.get_session().get_credentials()
NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"


def send(body: bytes, headers: dict):
    req = AWSRequest(method="POST", url=EP + "/", data=body, headers=headers)
    SigV4Auth(creds, "monitoring", "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(EP + "/", data=body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def query(params: dict):
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    return send(body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def json10(op: str, payload: dict):
    return send(json.dumps(payload).encode(), {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801." + op,
        "x-amzn-query-mode": "true",
    })


minute = (int(datetime.datetime.now(datetime.timezone.utc).timestamp()) // 60 - 3) * 60
ts = minute + 5
iso = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

# The same datum, once per protocol, into two metrics.
status, headers, body = query({
    "Action": "PutMetricData", "Namespace": "Proto",
    "MetricData.member.1.MetricName": "viaquery",
    "MetricData.member.1.Dimensions.member.1.Name": "host", "MetricData.member.1.Dimensions.member.1.Value": "h",
    "MetricData.member.1.Values.member.1": "2", "MetricData.member.1.Values.member.2": "8",
    "MetricData.member.1.Counts.member.1": "3", "MetricData.member.1.Counts.member.2": "1",
    "MetricData.member.1.Unit": "Milliseconds", "MetricData.member.1.Timestamp": iso,
})
assert status == 200, (status, body)
root = ET.fromstring(body)
assert root.tag == NS + "PutMetricDataResponse", body
assert root.find(f"{NS}ResponseMetadata/{NS}RequestId").text, body

status, headers, body = json10("PutMetricData", {"Namespace": "Proto", "MetricData": [{
    "MetricName": "viajson", "Dimensions": [{"Name": "host", "Value": "h"}],
    "Values": [2, 8], "Counts": [3, 1], "Unit": "Milliseconds", "Timestamp": ts}]})
assert status == 200, (status, body)
assert headers.get("Content-Type", headers.get("content-type")) == "application/x-amz-json-1.0", headers
assert json.loads(body) == {}, body

stats = ["SampleCount", "Sum", "Minimum", "Maximum", "Average"]
results = {}
for metric in ["viaquery", "viajson"]:
    # Read back through JSON.
    status, _, body = json10("GetMetricStatistics", {
        "Namespace": "Proto", "MetricName": metric, "Dimensions": [{"Name": "host", "Value": "h"}],
        "StartTime": minute - 60, "EndTime": minute + 120, "Period": 60, "Statistics": stats})
    assert status == 200, body
    dps = json.loads(body)["Datapoints"]
    assert len(dps) == 1, body
    j = {k: dps[0][k] for k in stats}
    assert dps[0]["Timestamp"] == minute, dps
    # Read back through query.
    params = {"Action": "GetMetricStatistics", "Namespace": "Proto", "MetricName": metric,
              "Dimensions.member.1.Name": "host", "Dimensions.member.1.Value": "h",
              "StartTime": datetime.datetime.fromtimestamp(minute - 60, datetime.timezone.utc).isoformat(),
              "EndTime": datetime.datetime.fromtimestamp(minute + 120, datetime.timezone.utc).isoformat(),
              "Period": "60"}
    for i, s in enumerate(stats, 1):
        params[f"Statistics.member.{i}"] = s
    status, _, body = query(params)
    assert status == 200, body
    root = ET.fromstring(body)
    members = root.findall(f"{NS}GetMetricStatisticsResult/{NS}Datapoints/{NS}member")
    assert len(members) == 1, body
    q = {k: float(members[0].find(NS + k).text) for k in stats}
    assert members[0].find(NS + "Unit").text == "Milliseconds", body
    stamp = members[0].find(NS + "Timestamp").text
    assert datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() == minute, stamp
    assert root.find(f"{NS}GetMetricStatisticsResult/{NS}Label").text == metric, body
    assert j == q, (j, q)
    results[metric] = j

assert results["viaquery"] == results["viajson"], results
assert results["viajson"] == {"SampleCount": 4.0, "Sum": 14.0, "Minimum": 2.0, "Maximum": 8.0, "Average": 3.5}, results

# The CloudWatch agent's own shape: awsQuery with Values + Counts + StatisticValues in one datum.
status, _, body = query({
    "Action": "PutMetricData", "Namespace": "ProtoAgent",
    "MetricData.member.1.MetricName": "timing",
    "MetricData.member.1.Values.member.1": "10", "MetricData.member.1.Values.member.2": "20",
    "MetricData.member.1.Counts.member.1": "5", "MetricData.member.1.Counts.member.2": "1",
    "MetricData.member.1.StatisticValues.SampleCount": "6", "MetricData.member.1.StatisticValues.Sum": "70",
    "MetricData.member.1.StatisticValues.Minimum": "10", "MetricData.member.1.StatisticValues.Maximum": "20",
    "MetricData.member.1.StorageResolution": "60", "MetricData.member.1.Timestamp": iso,
})
assert status == 200, (status, body)
status, _, body = json10("GetMetricStatistics", {
    "Namespace": "ProtoAgent", "MetricName": "timing", "StartTime": minute - 60, "EndTime": minute + 120,
    "Period": 60, "Statistics": ["SampleCount", "Sum"]})
dps = json.loads(body)["Datapoints"]
assert (dps[0]["SampleCount"], dps[0]["Sum"]) == (6.0, 70.0), body

# ListMetrics over query lists both, in XML.
status, _, body = query({"Action": "ListMetrics", "Namespace": "Proto"})
assert status == 200, body
names = sorted(m.find(NS + "MetricName").text for m in ET.fromstring(body).iter(NS + "member") if m.find(NS + "MetricName") is not None)
assert names == ["viajson", "viaquery"], body

# Errors in each format.
status, headers, body = query({"Action": "PutMetricData", "Namespace": "Proto",
                               "MetricData.member.1.MetricName": "x", "MetricData.member.1.Value": "1",
                               "MetricData.member.1.Timestamp": "2001-01-01T00:00:00Z"})
assert status == 400, (status, body)
err = ET.fromstring(body).find(f"{NS}Error")
assert err.find(NS + "Code").text == "InvalidParameterValue", body
assert err.find(NS + "Type").text == "Sender", body
status, headers, body = json10("PutMetricData", {"Namespace": "Proto", "MetricData": [{"MetricName": "x", "Value": 1, "Timestamp": 978307200}]})
assert status == 400, (status, body)
assert json.loads(body)["__type"] == "InvalidParameterValueException", body
lower = {k.lower(): v for k, v in headers.items()}
assert lower["x-amzn-query-error"] == "InvalidParameterValue;Sender", headers

# An unknown action is rejected in the query dialect.
status, _, body = query({"Action": "NoSuchAction"})
assert status == 400 and b"InvalidAction" in body, body
print("ok")
