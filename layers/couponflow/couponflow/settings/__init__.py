"""Environment of each function as a pydantic model, validated once at cold start.

Domain code never reads ``os.environ``; handlers load their settings here and pass plain values on.
Each function's model has a module of its own (``couponflow.settings.claim`` for the claim
function), so a cold start builds only its own: every model class costs its import time, and
``HttpUrl`` loads pydantic's URL types, which the storefront's functions never need.
"""

from __future__ import annotations

import os
from typing import Self

from pydantic import BaseModel, ConfigDict, Field


class EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls) -> Self:
        """Validate the process environment; a missing or bad variable fails the cold start loudly."""
        return cls.model_validate(dict(os.environ))


class TableSettings(EnvSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class MerchantUrlSettings(EnvSettings):
    """For a function that calls merchant-set URLs (email providers, notice webhooks)."""

    # Those URLs may be http or reach internal hosts: the local stack and tests only, never AWS.
    allow_private_provider_hosts: bool = Field(alias="ALLOW_PRIVATE_PROVIDER_HOSTS", default=False)
