"""Test fixtures for the `keysweep rotate` end-to-end tests: sets up and reads
back state in the local moto and OpenBao servers started by scripts/servers.

    python fixtures.py COMMAND ARGS...   -> one JSON document on stdout

AWS calls use the moto admin key from KEYSWEEP_MOTO_ACCESS_KEY_ID /
KEYSWEEP_MOTO_SECRET_ACCESS_KEY; Vault calls use KEYSWEEP_BAO_ADDR and
KEYSWEEP_BAO_TOKEN. Only the Python standard library and boto3 (installed with
moto) are used.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def aws(service, key_id=None, secret=None):
    import boto3

    return boto3.client(
        service,
        endpoint_url=os.environ["KEYSWEEP_MOTO_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id=key_id or os.environ["KEYSWEEP_MOTO_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["KEYSWEEP_MOTO_SECRET_ACCESS_KEY"],
    )


def code_of(e):
    return getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__)


def vault(method, path, body=None):
    req = urllib.request.Request(
        os.environ["KEYSWEEP_BAO_ADDR"] + "/v1/" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Vault-Token": os.environ.get("KEYSWEEP_BAO_TOKEN", "root")},
    )
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        return {"http_error": e.code, "body": e.read().decode(errors="replace")}


def main(cmd, *args):
    if cmd == "sm-create":
        name, value = args
        return {"arn": aws("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]}
    if cmd == "sm-get":
        name, stage = args[0], (args[1] if len(args) > 1 else "AWSCURRENT")
        try:
            r = aws("secretsmanager").get_secret_value(SecretId=name, VersionStage=stage)
            return {"value": r.get("SecretString"), "version": r["VersionId"]}
        except Exception as e:  # noqa: BLE001 - report the AWS error code
            return {"error": code_of(e)}
    if cmd == "sm-stages":
        (name,) = args
        return aws("secretsmanager").describe_secret(SecretId=name).get("VersionIdsToStages", {})
    if cmd == "sm-put-current":
        name, value = args
        r = aws("secretsmanager").put_secret_value(SecretId=name, SecretString=value)
        return {"version": r["VersionId"]}
    if cmd == "iam-user":
        # iam-user USER [ACTIONS_JSON]: a user allowed ACTIONS (default: only
        # sts:GetCallerIdentity), and one access key.
        user = args[0]
        actions = json.loads(args[1]) if len(args) > 1 else ["sts:GetCallerIdentity"]
        iam = aws("iam")
        iam.create_user(UserName=user)
        iam.put_user_policy(
            UserName=user,
            PolicyName="self",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                }
            ),
        )
        k = iam.create_access_key(UserName=user)["AccessKey"]
        return {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
    if cmd == "iam-keys":
        (user,) = args
        keys = aws("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
        return [{"id": k["AccessKeyId"], "status": k["Status"]} for k in keys]
    if cmd == "sts":
        key_id, secret = args
        try:
            return {"ok": True, "arn": aws("sts", key_id, secret).get_caller_identity()["Arn"]}
        except Exception as e:  # noqa: BLE001
            return {"ok": False, "code": code_of(e)}
    if cmd == "kv-put":
        mount, path, data = args
        return vault("POST", f"{mount}/data/{path}", {"data": json.loads(data)})
    if cmd == "kv-get":
        mount, path = args[0], args[1]
        q = f"?version={args[2]}" if len(args) > 2 else ""
        return vault("GET", f"{mount}/data/{path}{q}")
    if cmd == "kv-meta":
        mount, path = args
        return vault("GET", f"{mount}/metadata/{path}")
    if cmd == "kv-list":
        mount, path = args
        return vault("LIST", f"{mount}/metadata/{path}")
    if cmd == "mount-kv1":
        (path,) = args
        return vault("POST", f"sys/mounts/{path}", {"type": "kv", "options": {"version": "1"}})
    if cmd == "kv1-put":
        mount, path, data = args
        return vault("POST", f"{mount}/{path}", json.loads(data))
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
