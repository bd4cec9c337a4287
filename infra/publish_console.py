"""Upload the merchant console to the stack's console bucket, with the config.json that names the
stack's API (`make deploy` runs it after `sam deploy`; CloudFront serves the bucket).

    build/tools-venv/bin/python infra/publish_console.py --stack couponflow [--region eu-west-1]
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from pathlib import Path

import boto3

CONSOLE = Path(__file__).resolve().parents[1] / "console"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region")
    args = parser.parse_args()
    session = boto3.Session(region_name=args.region)
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    bucket, api_url = outputs["ConsoleBucketName"], outputs["ApiUrl"]
    s3 = session.client("s3")
    for file in sorted(p for p in CONSOLE.rglob("*") if p.is_file()):
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        s3.put_object(
            Bucket=bucket,
            Key=file.relative_to(CONSOLE).as_posix(),
            Body=file.read_bytes(),
            ContentType=kind,
            CacheControl="no-cache",  # small files, revalidated: a deploy shows at once
        )
    config = json.dumps({"api_url": api_url, "local": False}).encode()
    s3.put_object(
        Bucket=bucket, Key="config.json", Body=config, ContentType="application/json", CacheControl="no-cache"
    )
    print(f"console published: {outputs['ConsoleUrl']} (API {api_url})")


if __name__ == "__main__":
    main()
