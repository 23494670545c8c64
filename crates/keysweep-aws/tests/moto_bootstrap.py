#!/usr/bin/env python3
"""Bootstrap a fresh moto server for keysweep-aws's integration tests.

The server must be started with INITIAL_NO_AUTH_ACTION_COUNT=3, e.g.

    INITIAL_NO_AUTH_ACTION_COUNT=3 moto_server -H 127.0.0.1 -p 5077 &
    python3 crates/keysweep-aws/tests/moto_bootstrap.py http://127.0.0.1:5077

This script makes exactly those 3 unauthenticated calls (IAM CreateUser
`keysweep-admin`, PutUserPolicy with an inline allow-all policy,
CreateAccessKey); after them moto checks every request's credentials. It
prints the admin key as shell assignments on stdout:

    KEYSWEEP_MOTO_ACCESS_KEY_ID=AKIA...
    KEYSWEEP_MOTO_SECRET_ACCESS_KEY=...

(`eval "$(python3 moto_bootstrap.py URL)"` and export them, together with
KEYSWEEP_MOTO_ENDPOINT=URL). The endpoint comes from the first argument or
from KEYSWEEP_MOTO_ENDPOINT. Needs boto3 (installed with moto).
"""

import json
import os
import sys

import boto3


def main() -> int:
    endpoint = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KEYSWEEP_MOTO_ENDPOINT")
    if not endpoint:
        print("usage: moto_bootstrap.py ENDPOINT_URL", file=sys.stderr)
        return 2
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    user = "keysweep-admin"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="allow-all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    print(f"KEYSWEEP_MOTO_ACCESS_KEY_ID={key['AccessKeyId']}")
    print(f"KEYSWEEP_MOTO_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
