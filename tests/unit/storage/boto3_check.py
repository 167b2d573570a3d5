#!/usr/bin/python3
"""Independent read-back with boto3: prints every key under PREFIX with its size and SHA-256.

    boto3_check.py ENDPOINT BUCKET PREFIX
"""
import hashlib
import sys

import boto3
from botocore.config import Config


def main():
    endpoint, bucket, prefix = sys.argv[1:4]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="S3RVER",
                          aws_secret_access_key="S3RVER", config=Config(s3={"addressing_style": "path"}))
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            print(f"{item['Key']}\t{len(body)}\t{hashlib.sha256(body).hexdigest()}")


if __name__ == "__main__":
    main()
