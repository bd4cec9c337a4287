"""The API-key authorizer's environment."""

from __future__ import annotations

from couponflow.settings import TableSettings


class AuthorizerSettings(TableSettings):
    pass
