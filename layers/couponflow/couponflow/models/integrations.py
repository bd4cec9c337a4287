"""API contract of the email-provider connection (``/integrations/email-provider``).

One request model for both provider types, so every error names its own field (``type``,
``api_key``, ``url``...): a field another type needs is "required for", a field the chosen type
does not use is "not used by".
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, HttpUrl, ValidationInfo, field_validator

from couponflow.models.base import ApiModel

_DATA_CENTER = re.compile(r"-([a-z]{2,5}[0-9]{1,3})$")
_FIELDS_OF = {
    "mailchimp": {"api_key", "list_id", "server_prefix", "base_url", "double_opt_in"},
    "webhook": {"url", "secret"},
}
_REQUIRED = {"api_key": "mailchimp", "list_id": "mailchimp", "url": "webhook", "secret": "webhook"}


class EmailProviderIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["mailchimp", "webhook"]
    # mailchimp
    api_key: str | None = Field(
        default=None, min_length=8, max_length=200, pattern=r"^[A-Za-z0-9\-]+$", validate_default=True
    )
    list_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$", validate_default=True
    )
    base_url: HttpUrl | None = None  # a self-hosted or test endpoint instead of <dc>.api.mailchimp.com
    server_prefix: str | None = Field(default=None, pattern=r"^[a-z]{2,5}[0-9]{1,3}$", validate_default=True)
    double_opt_in: bool | None = None  # default True for mailchimp
    # webhook
    url: HttpUrl | None = Field(default=None, validate_default=True)
    secret: str | None = Field(default=None, min_length=16, max_length=256, validate_default=True)

    @field_validator("api_key", "list_id", "url", "secret", "base_url", "double_opt_in", mode="after")
    @classmethod
    def _belongs_to_type(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        name = str(info.field_name)
        if kind is None:
            return value
        if value is None and _REQUIRED.get(name) == kind:
            raise ValueError(f"required for a {kind} provider")
        if value is not None and name not in _FIELDS_OF[kind]:
            raise ValueError(f"not used by a {kind} provider")
        return value

    @field_validator("server_prefix", mode="after")
    @classmethod
    def _data_center(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Mailchimp's data center: given, or the API key's suffix (``...-us21``), unless base_url is set."""
        if info.data.get("type") != "mailchimp":
            if value is not None:
                raise ValueError(f"not used by a {info.data.get('type')} provider")
            return None
        if value is not None or info.data.get("base_url") is not None:
            return value
        found = _DATA_CENTER.search(info.data.get("api_key") or "")
        if found is None:
            raise ValueError(
                "required when the api_key has no data-center suffix (e.g. -us21) and no base_url"
            )
        return found.group(1)


class EmailProviderOut(ApiModel):
    type: str
    connected_at: str
    list_id: str | None = None
    server_prefix: str | None = None
    base_url: str | None = None
    double_opt_in: bool | None = None
    url: str | None = None
    api_key: str | None = None  # masked
    secret: str | None = None  # masked
