"""The provider sync function's environment."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import TableSettings


class ProviderSyncSettings(TableSettings):
    max_attempts: int = Field(alias="PROVIDER_SYNC_MAX_ATTEMPTS", default=5, ge=1)
    allow_private_provider_hosts: bool = Field(alias="ALLOW_PRIVATE_PROVIDER_HOSTS", default=False)
