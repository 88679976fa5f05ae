"""CloudWatch dashboard operations over awsQuery (form body, XML reply) and through boto3
(awsJson 1.0): put, get, list, delete, and CloudWatch's errors for bad names and bodies."""
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
NS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"
creds = botocore.session.get_session().get_credentials()


def query(params: dict):
    body = urllib.parse.urlencode({"Version": "2010-08-01", **params}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = AWSRequest(method="POST", url=EP + "/", data=body, headers=headers)
    SigV4Auth(creds, "monitoring", "us-east-1").add_auth(req)
    r = urllib.request.Request(EP + "/", data=body, headers=dict(req.prepare().headers), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, ET.fromstring(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


body = json.dumps({"widgets": [
    {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
     "properties": {"metrics": [["CWAgent", "mem_used_percent", "host", "a"]], "period": 60,
                    "stat": "Average", "region": "us-east-1", "title": "Memory"}},
    {"type": "text", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {"markdown": "# Notes"}},
]})

# awsQuery
status, xml = query({"Action": "PutDashboard", "DashboardName": "query-made", "DashboardBody": body})
assert status == 200, ET.tostring(xml)
assert xml.find(f"{NS}PutDashboardResult") is not None, ET.tostring(xml)
status, xml = query({"Action": "GetDashboard", "DashboardName": "query-made"})
assert status == 200, ET.tostring(xml)
assert xml.find(f"{NS}GetDashboardResult/{NS}DashboardBody").text == body
assert xml.find(f"{NS}GetDashboardResult/{NS}DashboardArn").text.endswith(":dashboard/query-made")
status, xml = query({"Action": "ListDashboards", "DashboardNamePrefix": "query"})
names = [e.text for e in xml.iter(f"{NS}DashboardName")]
assert names == ["query-made"], ET.tostring(xml)
status, xml = query({"Action": "PutDashboard", "DashboardName": "bad name", "DashboardBody": body})
assert status == 400 and xml.find(f"{NS}Error/{NS}Code").text == "InvalidParameterValue", ET.tostring(xml)
status, xml = query({"Action": "PutDashboard", "DashboardName": "bad-body", "DashboardBody": "{\"widgets\": 3}"})
assert status == 400 and xml.find(f"{NS}Error/{NS}Code").text == "InvalidParameterInput", ET.tostring(xml)
status, xml = query({"Action": "DeleteDashboards", "DashboardNames.member.1": "query-made"})
assert status == 200, ET.tostring(xml)
status, xml = query({"Action": "GetDashboard", "DashboardName": "query-made"})
assert status == 404 and xml.find(f"{NS}Error/{NS}Code").text == "ResourceNotFound", ET.tostring(xml)

# boto3 (awsJson 1.0, query-compatible errors)
cw = boto3.client("cloudwatch", endpoint_url=EP)
out = cw.put_dashboard(DashboardName="sdk-made", DashboardBody=body)
assert out["DashboardValidationMessages"] == [], out
assert cw.get_dashboard(DashboardName="sdk-made")["DashboardBody"] == body
entries = cw.list_dashboards()["DashboardEntries"]
assert [e["DashboardName"] for e in entries] == ["sdk-made"], entries
assert entries[0]["Size"] == len(body) and entries[0]["LastModified"].year >= 2024
try:
    cw.put_dashboard(DashboardName="x", DashboardBody=json.dumps({"widgets": [{"type": "text", "width": 25, "properties": {"markdown": "m"}}]}))
    raise AssertionError("an invalid body was accepted")
except cw.exceptions.DashboardInvalidInputError as e:
    assert "/widgets/0/width" in str(e), e
# DashboardNotFoundError and ResourceNotFound share the code ResourceNotFound.
try:
    cw.get_dashboard(DashboardName="nope")
    raise AssertionError("a missing dashboard was found")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFound", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
try:
    cw.delete_dashboards(DashboardNames=["sdk-made", "nope"])
    raise AssertionError("deleted a missing dashboard")
except ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFound", e.response
assert cw.get_dashboard(DashboardName="sdk-made")  # all or nothing
cw.delete_dashboards(DashboardNames=["sdk-made"])
assert cw.list_dashboards()["DashboardEntries"] == []
print("ok")
