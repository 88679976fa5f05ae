"""Print every event of a log group as JSON: {"<stream>": [{"t": timestamp, "m": message}, ...]},
reading each stream from its head with boto3's GetLogEvents and forward tokens."""
import json
import os
import sys

import boto3

group = sys.argv[1]
logs = boto3.client("logs", endpoint_url=os.environ["HOSTWATCH_ENDPOINT"], region_name="us-east-1")
out = {}
try:
    streams = []
    kwargs = {"logGroupName": group}
    while True:
        page = logs.describe_log_streams(**kwargs)
        streams += [s["logStreamName"] for s in page["logStreams"]]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
except logs.exceptions.ResourceNotFoundException:
    streams = []
for name in streams:
    events = []
    kwargs = {"logGroupName": group, "logStreamName": name, "startFromHead": True, "limit": 10000}
    while True:
        page = logs.get_log_events(**kwargs)
        events += [{"t": e["timestamp"], "m": e["message"]} for e in page["events"]]
        token = page.get("nextForwardToken")
        if not page["events"] or token == kwargs.get("nextToken"):
            break
        kwargs["nextToken"] = token
    out[name] = events
json.dump(out, sys.stdout)
