"""The one module that talks to AWS Secrets Manager.

``secret_string`` reads a secret once per execution environment (a cold start) and keeps it in
memory (the link signing secret does not rotate under a running function); ``OnFirstUse`` defers
that read to the first request that needs the secret; ``read_secret``
always asks; ``create_secret_string`` creates a secret (e.g. a merchant's credentials: one secret
per connection, never overwritten, so two requests racing on one merchant never share one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from couponflow.errors import RetryableError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

_RETRYABLE = frozenset({"InternalServiceError", "ThrottlingException", "RequestLimitExceeded"})


@cache
def client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=Config(retries={"max_attempts": 5, "mode": "adaptive"}))


def _translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code in _RETRYABLE:
        return RetryableError(f"Secrets Manager {code}: {error}")
    return error


@cache
def secret_string(secret_id: str) -> str:
    """The value of a string secret (by ARN or name), fetched once per process."""
    return read_secret(secret_id)


@dataclass(frozen=True)
class OnFirstUse:
    """A string secret fetched when first needed, then kept (``secret_string``): a cold start
    whose requests need none (a storefront's email claim) neither waits for it nor loads a
    Secrets Manager client."""

    secret_id: str

    def __call__(self) -> str:
        return secret_string(self.secret_id)


Secret = str | Callable[[], str]  # a value, or how to get it when needed


def value_of(secret: Secret) -> str:
    return secret if isinstance(secret, str) else secret()


def read_secret(secret_id: str) -> str:
    """The current value of a string secret, asked now."""
    try:
        response = client().get_secret_value(SecretId=secret_id)
    except ClientError as error:
        raise _translate(error) from error
    value = response.get("SecretString")
    if not value:
        raise ValueError(f"secret {secret_id} has no string value")
    return value


def create_secret_string(name: str, value: str, *, description: str = "") -> str:
    """Create the secret ``name``; returns its ARN."""
    try:
        return client().create_secret(Name=name, SecretString=value, Description=description)["ARN"]
    except ClientError as error:
        raise _translate(error) from error


def delete_secret(secret_id: str) -> None:
    """Delete a secret at once (no recovery window), so its name can be used again right away."""
    try:
        client().delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return
        raise _translate(error) from error
