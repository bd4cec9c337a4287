"""API contract of the customers tab (create, update, import, unsubscribe) and of segments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from couponflow.domain.audience import E164
from couponflow.models.base import ApiModel
from couponflow.models.claims import Email
from couponflow.models.code_imports import ImportJobOut

MAX_IMPORT = 1000
MAX_MEMBERS_PER_REQUEST = 1000


def _phone(value: str) -> str:
    compact = value.replace(" ", "").replace("-", "")
    if not E164.fullmatch(compact):
        raise ValueError("phone must be in E.164 form, e.g. +14155550123")
    return compact


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone offset, e.g. 2026-12-01T09:00:00+00:00")
    return value


Phone = Annotated[str, Field(min_length=8, max_length=24), AfterValidator(_phone)]
Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Strict(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(_Strict):
    """Create or update one customer; the email (else the phone) identifies them."""

    email: Email | None = None
    phone: Phone | None = None
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    last_interaction_at: Annotated[datetime | None, AfterValidator(_aware)] = None

    @model_validator(mode="after")
    def _reachable(self) -> CustomerIn:
        if not self.email and not self.phone:
            raise ValueError("email or phone is required")
        return self


class CustomersImportIn(_Strict):
    """Rows are checked one by one (``services/audience.import_customers``): a bad row is reported
    with its index and field, and the good ones are imported."""

    customers: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_IMPORT)


class SegmentRuleIn(_Strict):
    active_within_days: int | None = Field(default=None, ge=1, le=3650)
    has_tag: Tag | None = None
    claimed_campaign_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _some(self) -> SegmentRuleIn:
        if self.active_within_days is None and self.has_tag is None and self.claimed_campaign_id is None:
            raise ValueError("a rule needs at least one of active_within_days, has_tag, claimed_campaign_id")
        return self


class SegmentIn(_Strict):
    """A static segment (no ``rule``; members added and removed) or a rule-based one."""

    name: str = Field(min_length=1, max_length=200)
    rule: SegmentRuleIn | None = None


class MembersIn(_Strict):
    """Customer ids or email addresses."""

    customers: list[Annotated[str, Field(min_length=1, max_length=254)]] = Field(
        min_length=1, max_length=MAX_MEMBERS_PER_REQUEST
    )


def _tags(value: object) -> object:
    """A file's tags: a list, or one string separated by ``;`` or ``|``."""
    if isinstance(value, str):
        return [t.strip() for t in value.replace("|", ";").split(";") if t.strip()] or None
    return value


class CustomerRowIn(CustomerIn):
    """One row of a customer import: a single customer's fields, plus ``name`` and consent."""

    name: str | None = Field(default=None, max_length=200)
    tags: Annotated[list[Tag] | None, BeforeValidator(_tags), Field(max_length=50)] = None
    marketing_consent: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _blanks(cls, data: object) -> object:
        """An empty cell is a value not given."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class CustomerImportIn(_Strict):
    """Start a customer import: the file's format (CSV with a header row, or JSON Lines)."""

    format: Literal["csv", "json"] = "csv"


class InvalidRowOut(ApiModel):
    line: int = Field(description="the row's line in the file (1 is the first data row)")
    reason: str
    field: str | None = None


class CustomerImportJob(ImportJobOut):
    """A customer file import: rows created, updated, unchanged, duplicate and invalid."""

    import_id: str
    format: str = Field(description="`csv` or `json` (one object per line)")
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate: int = 0
    invalid: int = 0
    invalid_rows: list[InvalidRowOut] = Field(default=[], description="the first invalid rows, with why")
    columns: list[str] | None = Field(default=None, description="on creation: the columns the file may have")


class RejectedRowOut(ApiModel):
    row: int = Field(description="the row's index in `customers` (0 is the first)")
    field: str
    message: str


class CustomersImported(ApiModel):
    """What `POST /customers/import` did: each valid row imported, each invalid one named."""

    imported: int
    customers: int = Field(description="distinct customers written (the same email twice is one)")
    customer_ids: list[str]
    rejected: list[RejectedRowOut]
