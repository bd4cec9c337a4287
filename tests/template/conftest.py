from __future__ import annotations

import copy
from typing import Any

import pytest
from cfn_model import load_template
from samtranslator.translator.transform import transform


class _NoManagedPolicies:
    """Managed-policy loader stub: the translator would otherwise call IAM to list AWS policies."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the SAM transform, as CloudFormation would receive it; no AWS calls.

    Local CodeUri / ContentUri folders are replaced by S3 URIs, as `sam package` would do.
    """
    document = copy.deepcopy(template)
    for logical_id, resource in document["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://couponflow-artifacts/{logical_id}.zip"
    with pytest.MonkeyPatch.context() as patch:
        # The translator asks a boto3 session for the region (no call is made).
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        return transform(document, {}, _NoManagedPolicies())
