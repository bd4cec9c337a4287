"""The provider sync function's environment."""

from __future__ import annotations

from pydantic import Field

from couponflow.settings import MerchantUrlSettings, TableSettings


class ProviderSyncSettings(TableSettings, MerchantUrlSettings):
    max_attempts: int = Field(alias="PROVIDER_SYNC_MAX_ATTEMPTS", default=5, ge=1)
