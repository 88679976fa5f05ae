"""Put COUNT String parameters PREFIX00, PREFIX01, ... with boto3 (one process instead of one
AWS CLI run per parameter)."""
import os
import sys

import boto3

prefix, count = sys.argv[1], int(sys.argv[2])
ssm = boto3.client("ssm", endpoint_url=os.environ["HOSTWATCH_ENDPOINT"], region_name="us-east-1")
for i in range(count):
    ssm.put_parameter(Name=f"{prefix}{i:02d}", Type="String", Value="v")
print(count)
