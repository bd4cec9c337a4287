"""``couponflow``: merchants and their API keys, on a deployed stack or the local one.

    couponflow --stack couponflow merchants create --name "Shop" --notification-email ops@shop.example
    couponflow --stack couponflow merchants list
    couponflow --stack couponflow keys create m01... --label "storefront"
    couponflow --stack couponflow keys list m01...
    couponflow --stack couponflow keys revoke m01... 3f9a0c1d2e4b
    couponflow --local merchants list          # the local stack of `make run` (moto on :4566)

``--stack`` reads the table's name from the stack's ``CouponflowTableName`` output with your AWS
credentials; ``--table`` names it directly. A new key is printed once: only its hash is stored.
Answers are JSON, one object per line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from couponflow.adapters.dynamodb import Table
from couponflow.errors import NotFoundError
from couponflow.services import merchants

LOCAL_ENDPOINT = "http://127.0.0.1:4566"
LOCAL_TABLE = "couponflow-local-CouponflowTable"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="couponflow", description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="the deployed stack's name (its CouponflowTableName output)")
    where.add_argument("--table", help="the Couponflow table's name")
    where.add_argument("--local", action="store_true", help=f"the local stack ({LOCAL_ENDPOINT})")
    parser.add_argument("--endpoint-url", help="an AWS endpoint (the local stack's moto)")
    parser.add_argument("--region", help="AWS region (default: your configuration's)")
    kinds = parser.add_subparsers(dest="kind", required=True)

    merchant = kinds.add_parser("merchants", help="create or list merchants").add_subparsers(
        dest="action", required=True
    )
    create = merchant.add_parser("create", help="a merchant and its first API key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--notification-email")
    create.add_argument("--label", default="first key", help="the first key's label")
    merchant.add_parser("list", help="every merchant")

    key = kinds.add_parser("keys", help="create, list or revoke a merchant's API keys").add_subparsers(
        dest="action", required=True
    )
    new = key.add_parser("create", help="a new key (printed once)")
    new.add_argument("merchant_id")
    new.add_argument("--label", required=True)
    shown = key.add_parser("list", help="the merchant's keys: id, label, created, last used, revoked")
    shown.add_argument("merchant_id")
    revoke = key.add_parser("revoke", help="refuse a key from now on (within a minute at the API)")
    revoke.add_argument("merchant_id")
    revoke.add_argument("key_id")
    return parser


def _table(args: argparse.Namespace) -> Table:
    if args.local or args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url or LOCAL_ENDPOINT
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "testing")  # moto takes any credentials
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if args.table or args.local:
        return Table(args.table or LOCAL_TABLE)
    stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "CouponflowTableName" not in outputs:
        raise SystemExit(f"stack {args.stack} has no CouponflowTableName output: is it a Couponflow stack?")
    return Table(outputs["CouponflowTableName"])


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    table = _table(args)
    match (args.kind, args.action):
        case ("merchants", "create"):
            made = merchants.create_merchant(
                table, args.name, notification_email=args.notification_email, key_label=args.label
            )
            return [{"merchant_id": made.merchant_id, "api_key": made.api_key, "note": "shown once"}]
        case ("merchants", "list"):
            return merchants.list_merchants(table)
        case ("keys", "create"):
            api_key, view = merchants.create_key(table, args.merchant_id, args.label)
            return [{**view, "api_key": api_key, "note": "shown once"}]
        case ("keys", "list"):
            return merchants.list_keys(table, args.merchant_id)
        case ("keys", "revoke"):
            return [merchants.revoke_key(table, args.merchant_id, args.key_id)]
    raise SystemExit(f"unknown command {args.kind} {args.action}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        answers = run(args)
    except NotFoundError as error:
        print(json.dumps({"error": str(error)}), file=sys.stderr)
        return 1
    for answer in answers:
        print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
