"""Gzip request bodies are accepted after the signature check (botocore compresses PutMetricData
bodies over its threshold), and a gzip bomb is refused with a size error."""
import gzip
import os
import sys
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

EP = os.environ["HOSTWATCH_ENDPOINT"]
creds = botocore.session.get_session().get_credentials()

# botocore compresses when the body is at least this many bytes.
cw = boto3.client("cloudwatch", endpoint_url=EP, config=botocore.config.Config(request_min_compression_size_bytes=128))
cw.put_metric_data(Namespace="Gz", MetricData=[{"MetricName": f"m{i}", "Value": float(i)} for i in range(200)])
names = set()
for page in cw.get_paginator("list_metrics").paginate(Namespace="Gz"):
    names.update(m["MetricName"] for m in page["Metrics"])
assert len(names) == 200, len(names)

# PutMetricData is limited to 1 MB per request, also when the body arrives gzip-compressed.
big = [{"MetricName": f"big{i}", "Value": 1.0, "Dimensions": [{"Name": "d", "Value": "x" * 1000}]} for i in range(1000)]
try:
    cw.put_metric_data(Namespace="Gz", MetricData=big)
    sys.exit("a PutMetricData body over 1 MB was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 413, e.response
    assert e.response["Error"]["Code"] == "RequestEntityTooLarge", e.response

# A small body that inflates past the cap.
bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}")
req = AWSRequest(method="POST", url=EP + "/", data=bomb, headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
    "Content-Encoding": "gzip"})
SigV4Auth(creds, "logs", "us-east-1").add_auth(req)
p = req.prepare()
try:
    urllib.request.urlopen(urllib.request.Request(EP + "/", data=bomb, headers=dict(p.headers), method="POST"))
    sys.exit("a gzip bomb was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 413, e.code
print("ok")
