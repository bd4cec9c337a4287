"""IAM is enforced on the handlers' calls as on AWS: with the template's role as shipped the
suite passes; with one permission less, the call that needs it is refused with AccessDenied."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from couponflow.adapters.dynamodb import Table
from couponflow.store import messages
from local_stack import iam
from local_stack.template import ACCOUNT_ID


def _role(stack: Any, function: str, drop: str | None = None) -> iam.Role:
    """The function's role from template.yaml, without the index ``drop`` in any statement."""
    properties = copy.deepcopy(stack.resolved[function]["Properties"])
    for policy in properties["Policies"]:
        for statement in policy["Statement"]:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            statement["Resource"] = [r for r in resources if not (drop and str(r).endswith(f"/index/{drop}"))]
    return iam.role_of(function, properties, account_id=ACCOUNT_ID)


def test_the_ses_events_function_may_look_messages_up_by_ses_id_on_gsi4(stack: Any) -> None:
    table = Table(stack.physical["CouponflowTable"])
    with iam.acting_as(_role(stack, "SesEventsFunction")):
        assert messages.find_by_ses_id(table, "no-such-ses-id") is None


def test_without_its_gsi4_permission_the_lookup_is_access_denied_naming_the_index(stack: Any) -> None:
    table = Table(stack.physical["CouponflowTable"])
    with iam.acting_as(_role(stack, "SesEventsFunction", drop="gsi4")), pytest.raises(ClientError) as denied:
        messages.find_by_ses_id(table, "no-such-ses-id")
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "dynamodb:Query" in error["Message"] and error["Message"].count("/index/gsi4") == 1


def test_housekeeping_without_gsi3_cannot_sweep_the_outbox(stack: Any) -> None:
    table = Table(stack.physical["CouponflowTable"])
    with iam.acting_as(_role(stack, "HousekeepingFunction")):
        assert messages.outbox_older_than(table, 0, "2000-01-01") == []
    with iam.acting_as(_role(stack, "HousekeepingFunction", drop="gsi3")), pytest.raises(ClientError):
        messages.outbox_older_than(table, 0, "2000-01-01")
