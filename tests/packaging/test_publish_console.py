"""`make deploy`'s last step uploads the console with a config.json naming the stack's API."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import boto3
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]
STACK = {
    "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "ConsoleBucketName": {"Value": {"Ref": "Bucket"}},
        "ApiUrl": {"Value": "https://abc.execute-api.eu-west-1.amazonaws.com/v1"},
        "ConsoleUrl": {"Value": "https://d111.cloudfront.net/"},
    },
}


def test_the_console_and_its_config_land_in_the_console_bucket(monkeypatch, capsys):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
        cloudformation.create_stack(StackName="shop", TemplateBody=json.dumps(STACK))
        monkeypatch.setattr(sys, "argv", ["publish_console.py", "--stack", "shop", "--region", "eu-west-1"])
        runpy.run_path(str(ROOT / "infra" / "publish_console.py"), run_name="__main__")
        s3 = boto3.client("s3", region_name="eu-west-1")
        (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
        index = s3.get_object(Bucket=bucket, Key="index.html")
    assert {"index.html", "app.js", "style.css", "config.json"} <= keys
    assert config == {"api_url": STACK["Outputs"]["ApiUrl"]["Value"], "local": False}
    assert index["ContentType"] == "text/html"
    assert "https://d111.cloudfront.net/" in capsys.readouterr().out
