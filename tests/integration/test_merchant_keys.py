"""The ``couponflow`` command against moto: merchants, several labelled keys each, shown once and
stored hashed, last use noted by the authorizer, revocation refused by the authorizer."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from couponflow import cli
from couponflow.adapters.dynamodb import Table
from couponflow.domain.api_keys import hash_api_key

from tests.conftest import load_event


def couponflow(capsys: pytest.CaptureFixture[str], table: str, *args: str) -> list[dict[str, Any]]:
    assert cli.main(["--table", table, *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def authorize(load_handler: Any, lambda_context: Any, api_key: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("authorizer/token"))
    event["authorizationToken"] = f"Bearer {api_key}"
    policy: dict[str, Any] = load_handler("AuthorizerFunction").lambda_handler(event, lambda_context)
    return policy


def test_a_merchant_gets_labelled_keys_shown_once_and_a_revoked_one_is_refused(
    stack: Any, capsys: pytest.CaptureFixture[str], load_handler: Any, lambda_context: Any
) -> None:
    table = stack.physical["CouponflowTable"]
    [made] = couponflow(capsys, table, "merchants", "create", "--name", "Key shop", "--label", "admin")
    merchant, first = made["merchant_id"], made["api_key"]
    assert any(m["merchant_id"] == merchant for m in couponflow(capsys, table, "merchants", "list"))
    [second] = couponflow(capsys, table, "keys", "create", merchant, "--label", "storefront")

    stored = Table(table).query("pk = :pk", {":pk": f"M#{merchant}"})
    assert all(first not in json.dumps(i) and second["api_key"] not in json.dumps(i) for i in stored)
    assert {i["sk"] for i in stored if i["type"] == "api_key"} == {
        f"APIKEY#{hash_api_key(first)}",
        f"APIKEY#{hash_api_key(second['api_key'])}",
    }

    assert authorize(load_handler, lambda_context, second["api_key"])["context"] == {"merchant_id": merchant}
    listed = {k["label"]: k for k in couponflow(capsys, table, "keys", "list", merchant)}
    assert set(listed) == {"admin", "storefront"}
    assert listed["storefront"]["last_used_at"] and listed["admin"]["last_used_at"] is None
    assert "api_key" not in listed["storefront"]

    [revoked] = couponflow(capsys, table, "keys", "revoke", merchant, second["key_id"])
    assert revoked["revoked_at"]
    denied = authorize(load_handler, lambda_context, second["api_key"])
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert authorize(load_handler, lambda_context, first)["context"] == {"merchant_id": merchant}


def test_revoking_an_unknown_key_says_so_and_exits_1(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    table = stack.physical["CouponflowTable"]
    [made] = couponflow(capsys, table, "merchants", "create", "--name", "Other shop")
    assert cli.main(["--table", table, "keys", "revoke", made["merchant_id"], "000000000000"]) == 1
    assert "has no key 000000000000" in capsys.readouterr().err
