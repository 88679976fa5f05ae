"""Authentication: botocore's signer is accepted; a wrong secret, an unknown key, a skewed clock
and a tampered body are rejected with the codes the SDKs expect."""
import datetime
import os
import sys
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

EP = os.environ["HOSTWATCH_ENDPOINT"]
good = botocore.session.get_session().get_credentials()


def client(service, key, secret):
    return boto3.client(service, endpoint_url=EP, aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


# botocore's signer is accepted (both services).
client("cloudwatch", good.access_key, good.secret_key).list_metrics()
client("logs", good.access_key, good.secret_key).describe_log_groups()


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Message", "")
    sys.exit("call was accepted")


# A wrong secret.
assert code_of(lambda: client("cloudwatch", good.access_key, "x" * 40).list_metrics())[:2] == ("SignatureDoesNotMatch", 403)
assert code_of(lambda: client("logs", good.access_key, "x" * 40).describe_log_groups())[:2] == ("InvalidSignatureException", 400)
# An unknown key.
assert code_of(lambda: client("cloudwatch", "AKIAUNKNOWNUNKNOWN00", good.secret_key).list_metrics())[:2] == ("InvalidClientTokenId", 403)
assert code_of(lambda: client("logs", "AKIAUNKNOWNUNKNOWN00", good.secret_key).describe_log_groups())[:2] == ("UnrecognizedClientException", 400)

# A clock 20 minutes slow: botocore signs with its own clock, so patch it.
slow = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
with mock.patch("botocore.auth.get_current_datetime", return_value=slow):
    req = AWSRequest(method="POST", url=EP + "/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
    SigV4Auth(good, "logs", "us-east-1").add_auth(req)
assert req.headers["X-Amz-Date"] == slow.strftime("%Y%m%dT%H%M%SZ"), req.headers
p = req.prepare()
try:
    urllib.request.urlopen(urllib.request.Request(EP + "/", data=b"{}", headers=dict(p.headers), method="POST"))
    sys.exit("a request signed 20 minutes ago was accepted")
except urllib.error.HTTPError as e:
    body = e.read().decode()
    assert e.code == 400 and "InvalidSignatureException" in body and "Signature expired" in body, body

# A body changed after signing.
req = AWSRequest(method="POST", url=EP + "/", data=b'{"limit": 1}', headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
SigV4Auth(good, "logs", "us-east-1").add_auth(req)
p = req.prepare()
try:
    urllib.request.urlopen(urllib.request.Request(EP + "/", data=b'{"limit": 2}', headers=dict(p.headers), method="POST"))
    sys.exit("a tampered body was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 400 and "InvalidSignatureException" in e.read().decode()

# No signature at all.
try:
    urllib.request.urlopen(urllib.request.Request(EP + "/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}, method="POST"))
    sys.exit("an unsigned request was accepted")
except urllib.error.HTTPError as e:
    assert "MissingAuthenticationTokenException" in e.read().decode()
print("ok")
