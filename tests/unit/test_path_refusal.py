"""A path with a control character is refused before routing (the fuzzer's find: a route
pattern's ``$`` matches before a final newline, so ``/campaigns/%0A`` reached the campaigns list)."""

from __future__ import annotations

import json

import pytest
from couponflow.http import refuse_unreadable


@pytest.mark.parametrize("path", ["/campaigns/%0A", "/campaigns/\n", "/customers/a%00b", "/sends/%7F"])
def test_a_path_with_a_control_character_is_a_400_naming_the_path(path: str) -> None:
    refused = refuse_unreadable({"path": path, "body": None}, 1024)
    assert refused is not None and refused["statusCode"] == 400
    assert json.loads(refused["body"])["field"] == "path"


@pytest.mark.parametrize("path", ["/campaigns/cmp_1", "/customers/a%40b.com", "/customers/J%C3%BCrgen"])
def test_an_ordinary_path_is_routed(path: str) -> None:
    assert refuse_unreadable({"path": path, "body": None}, 1024) is None
