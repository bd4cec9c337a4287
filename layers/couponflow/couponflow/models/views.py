"""What the list views answer: one row model per view, and the page around it.

Rows are built field by field from stored items (``services/lists.py``), never by filtering an
item, so nothing of the key design can reach a client; these models are the OpenAPI answers.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from couponflow.ids import claim_id
from couponflow.models.base import ApiModel

NEXT = "give it back as `next` for the following page; absent on the last page"


class _Row(ApiModel):
    model_config = ConfigDict(extra="forbid")


class CustomerRow(_Row):
    """A row of the customers tab."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    last_interaction_at: str | None = None
    active: bool = Field(description="an interaction in the last 365 days")
    lists: int = Field(description="static segments (lists) the customer is in")
    unsubscribed: bool = Field(description="globally unsubscribed: left out of every list and send")
    unsubscribed_at: str | None = None
    marketing_consent: bool | None = None
    tags: list[str] = []
    created_at: str | None = None


class CustomerPage(_Row):
    items: list[CustomerRow]
    next: str | None = Field(default=None, description=NEXT)


class CampaignCustomerRow(_Row):
    """A customer of a campaign, as LandingCube's list shows them."""

    customer_id: str
    email: str | None = None
    name: str | None = None
    status: str = Field(
        description="the customer-facing status: `email_queued`, `email_sent`, `email_delivered`, "
        "`email_opened`, `email_clicked`, `email_failed`, `email_dropped`, `coupon_viewed`, "
        "`clicked_through`, `redeemed`, `expired`, `released`, `out_of_coupons` (with `reason`)"
    )
    reason: str | None = Field(default=None, description="why it is out of coupons")
    claim_status: str
    email_status: str | None = None
    claimed_at: str | None = None
    integration_status: str | None = Field(
        default=None, description="blank (no provider), `pending`, `received` or `failed`"
    )
    integration_detail: str | None = None
    integration_at: str | None = None


class CampaignCustomerPage(_Row):
    items: list[CampaignCustomerRow]
    next: str | None = Field(default=None, description=NEXT)


class SegmentRuleOut(_Row):
    active_within_days: int | None = None
    has_tag: str | None = None
    claimed_campaign_id: str | None = None


class SegmentRow(_Row):
    segment_id: str
    name: str
    kind: str = Field(description="`static` (a list) or `rule`")
    rule: SegmentRuleOut | None = None
    created_at: str
    active_send_id: str | None = Field(default=None, description="the send scheduled or sending to it")


class SegmentPage(_Row):
    items: list[SegmentRow]
    next: str | None = Field(default=None, description=NEXT)


class MembersChanged(_Row):
    """What adding or removing members did."""

    segment_id: str
    changed: list[str] = Field(description="the customer ids added (or removed)")
    not_found: list[str] = Field(description="the references given that name no customer: not added")


class SendRow(_Row):
    """A segment send in the activity list."""

    send_id: str
    segment_id: str
    campaign_id: str
    channel: str
    status: str = Field(description="`scheduled`, `sending`, `done`, `failed` or `canceled`")
    send_at: str
    created_at: str
    reason: str | None = Field(default=None, description="why a send failed")
    counts: dict[str, Any] = Field(
        default={},
        description="once done: `recipients` = `sent` + `failed`, `failed` = `excluded` + `undelivered`, "
        "`failed_by_reason`",
    )
    report_url: str | None = Field(default=None, description="the failure report, while it lasts")
    report_expires_at: str | None = None


class SendPage(_Row):
    items: list[SendRow]
    next: str | None = Field(default=None, description=NEXT)


class RecipientRow(_Row):
    """A recipient in the send tracker."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    status: str = Field(
        description="`initiated`, `sent`, `opened`, `clicked`, `redeemed`, `expired`, `released` "
        "(Sendoso's refunded) or `failed`"
    )
    issue: str | None = Field(
        default=None,
        description="`invalid_email`, `suppressed` (suspicious), `unsubscribed`, `inactive`, "
        "`out_of_coupons` (insufficient), `sms_failed`, `bounced`, `complained`, `already_claimed`, "
        "`outcome_unknown`",
    )
    email_status: str | None = None
    sms_status: str | None = None
    claim_status: str | None = None
    message_id: str | None = None
    sms_message_id: str | None = None
    at: str | None = None


class RecipientPage(_Row):
    items: list[RecipientRow]
    next: str | None = Field(default=None, description=NEXT)


# --------------------------------------------------------------------------------------------
# One customer (the profile with claims and messages), one message (the info panel), a campaign
# --------------------------------------------------------------------------------------------


class _Shown(ApiModel):
    """Built from a stored item by validation: only the declared fields come out (an allow-list)."""

    model_config = ConfigDict(extra="ignore")


class EventView(_Shown):
    event_type: str
    status: str | None = None
    occurred_at: str | None = None
    recipient: str | None = None
    summary: str = Field(description="one line in words; the server's words are in `details`")
    details: dict[str, Any] = Field(default={}, description="SES's or the carrier's words, verbatim")
    ses_message_id: str | None = None


class MessageView(_Shown):
    """An email or text with its status, the words behind it and its timeline (the (i) panel)."""

    message_id: str
    channel: str = "email"
    status: str
    status_at: str | None = None
    status_event: str | None = None
    status_details: dict[str, Any] = Field(default={}, description="the event that decided the status")
    needs_attention: bool = False
    needs_attention_at: str | None = None
    needs_attention_reason: str | None = None
    handoff: str | None = Field(default=None, description="`unknown`: SES's answer to the hand-off was lost")
    handoff_at: str | None = None
    handoff_reason: str | None = None
    campaign_id: str | None = None
    send_id: str | None = None
    recipient: str | None = None
    code: str | None = None
    created_at: str | None = None
    sent_at: str | None = None
    ses_message_id: str | None = None
    sns_message_id: str | None = None
    events: list[EventView] = []


def _with_claim_id(data: Any) -> Any:
    """A stored claim, with the id its fields derive (``ids.claim_id``)."""
    if isinstance(data, dict) and "claim_id" not in data and "customer_id" in data:
        number = int(data.get("claim_number") or 1)
        return {**data, "claim_id": claim_id(data["campaign_id"], data["customer_id"], number)}
    return data


class ClaimView(_Shown):
    claim_id: str = Field(description="as the storefront's claim answer named it")
    campaign_id: str
    claim_number: int = 1
    status: str
    reason: str | None = None
    code: str | None = None
    claimed_at: str | None = None
    updated_at: str | None = None
    message_id: str | None = None
    offer_expires_at: str | None = None
    coupon_viewed_at: str | None = None
    clicked_through_at: str | None = None
    redeemed_at: str | None = None
    expired_at: str | None = None
    released_at: str | None = None
    integration_status: str | None = None
    integration_detail: str | None = None
    integration_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        return _with_claim_id(data)


class ClaimRow(ClaimView):
    customer_id: str
    email: str | None = None


class ClaimPage(_Row):
    items: list[ClaimRow]
    next: str | None = Field(default=None, description=NEXT)


class CustomerView(_Shown):
    """A customer's profile page: who they are, their claims, their emails and texts."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    tags: list[str] = []
    marketing_consent: bool | None = None
    last_interaction_at: str | None = None
    active: bool = Field(description="an interaction in the last 365 days")
    unsubscribed_at: str | None = None
    lists: list[str] = Field(default=[], description="the static segments (lists) they are in")
    created_at: str | None = None
    updated_at: str | None = None
    claims: list[ClaimView] = []
    messages: list[MessageView] = []


class CampaignView(_Shown):
    campaign_id: str
    merchant_id: str = Field(description="yours: the claim URL names it")
    name: str
    subject: str | None = None
    channel: str
    timezone: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    daily_limit: int | None = None
    per_customer_limit: int = 1
    offer_lifetime_days: int | None = None
    required_tag: str | None = None
    store_url: str | None = None
    text_template: str | None = None
    html_template: str | None = None
    release_undelivered_codes: bool | None = None
    block_disposable_emails: bool | None = None
    pool_alert_threshold: int | None = None
    paused: bool = False
    paused_reason: str | None = None
    reputation_paused_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    codes_available: int | None = Field(default=None, description="codes left in the pool")
    codes: dict[str, int] | None = Field(default=None, description="on creation: imported and duplicate")


# --------------------------------------------------------------------------------------------
# What the merchant's writes answer: a send, a segment, a customer record, settings
# --------------------------------------------------------------------------------------------


class SendView(_Shown):
    """A send: what was scheduled, its status, how far a large send's finish has counted, and once
    done its counts and failure report."""

    send_id: str
    segment_id: str
    campaign_id: str
    channel: str
    status: str = Field(description="`scheduled`, `sending`, `done`, `failed` or `canceled`")
    status_at: str | None = None
    send_at: str
    timezone: str | None = None
    subject: str | None = None
    body: str | None = None
    sms_text: str | None = None
    include_inactive: bool = False
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    reason: str | None = Field(default=None, description="why a send failed: `invalid_coupon`, ...")
    reason_detail: str | None = None
    condition: str | None = Field(default=None, description="the coupon condition that did not fit")
    members: int | None = Field(
        default=None, description="the segment's members at the start: each is a recipient"
    )
    eligible: int | None = None
    codes_available: int | None = None
    counted: int | None = Field(
        default=None,
        description="while `sending`, once every email has SES's verdict: the recipients the finish has "
        "counted so far, of `members` (a large send is counted over several housekeeping runs)",
    )
    counts: dict[str, Any] = {}
    failed_by_reason: dict[str, int] = {}
    report_url: str | None = Field(default=None, description="the failure report, while it lasts (7 days)")
    report_expires_at: str | None = None
    schedule_name: str | None = Field(default=None, description="its EventBridge Scheduler schedule")


class PreflightView(_Shown):
    """Who a send would reach now, and whether the pool holds enough codes."""

    send_id: str | None = Field(description="none for a send being checked before it is scheduled")
    members: int
    eligible: int
    excluded: dict[str, int] = Field(default={}, description="left out, by reason")
    codes_needed: int
    codes_available: int
    problem_at_send_time: str | None = None
    warnings: list[dict[str, Any]] = Field(default=[], description="what would make it fail, with the reason")


class SegmentView(_Shown):
    segment_id: str
    name: str
    kind: str
    rule: SegmentRuleOut | None = None
    created_at: str
    active_send_id: str | None = None
    size: int | None = Field(default=None, description="members now")
    changed: list[str] | None = Field(
        default=None, description="after adding or removing: the customer ids changed"
    )
    not_found: list[str] | None = Field(default=None, description="references that name no customer")


class CustomerRecord(_Shown):
    """A customer as a write left them."""

    customer_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    tags: list[str] = []
    last_interaction_at: str | None = None
    active: bool
    unsubscribed_at: str | None = None
    lists: list[str] = Field(default=[], validation_alias="segment_ids")
    created_at: str | None = None
    updated_at: str | None = None


class NoticeWebhookView(_Shown):
    """Where the merchant's notices are posted, signed with ``Couponflow-Signature``."""

    url: str
    secret_hint: str = Field(description="the signing secret's last four characters")
    set_at: str


class NoticeWebhookSet(NoticeWebhookView):
    """The answer that sets the webhook: the one that shows its signing secret."""

    secret: str = Field(description="the signing secret (`whsec_...`): shown here, never again")


class NoticeWebhookTest(_Row):
    """What the webhook answered a test notice (type `ping`)."""

    id: str = Field(description="the test notice's id, also its `Idempotency-Key` header")
    delivered: bool
    status: int | None = Field(default=None, description="the webhook's HTTP status, when it answered")
    reason: str | None = Field(default=None, description="why it was not delivered")


class SettingsView(_Shown):
    message_event_retention_days: int
    notification_email: str | None = None
    notice_webhook: NoticeWebhookView | None = None


class CampaignRow(CampaignView):
    alerts: list[str] = Field(
        default=[],
        description="what needs the merchant: `pool_empty`, `pool_low` (below its alert threshold), "
        "`paused` (with `paused_reason`)",
    )


class CampaignPage(_Row):
    items: list[CampaignRow]
    count: int = Field(description="campaigns on this page")
    next: str | None = Field(default=None, description=NEXT)


class ClaimFunnel(_Row):
    """How many of the campaign's claims reached each status (cumulative: a redeemed claim that
    was viewed first counts in both; a claim may be redeemed without its coupon link opened)."""

    claimed: int = Field(description="codes handed out")
    coupon_viewed: int = Field(description="coupon links opened")
    clicked_through: int = Field(description="clicked through to the store")
    redeemed: int = Field(description="reported used by the store")
    expired: int = Field(description="offers that lapsed unused (their codes went back to the pool)")
    released: int = Field(description="codes given back: email undelivered, send canceled")


class CampaignStats(_Row):
    """A campaign's funnel and sending health."""

    campaign_id: str
    claims: ClaimFunnel
    out_of_coupons: dict[str, int] = Field(
        description="claims answered out of coupons, by reason (every answer counts)"
    )
    codes_available: int = Field(description="codes left in the pool")
    counts: dict[str, int] = Field(description="messages by current status (from their first hand-off)")
    messages: int
    attempted: int = Field(description="messages handed to SES that count for the rates")
    bounce_rate: float
    complaint_rate: float
    bounce_rate_limit: float = Field(description="the bounce rate at which the campaign is paused")
    complaint_rate_limit: float = Field(description="the complaint rate at which the campaign is paused")
    paused: bool
    paused_reason: str | None = None
    reputation_paused_at: str | None = None


class SendPreview(_Row):
    """The send's email and text as one recipient (or a sample customer) would get them."""

    customer_id: str | None = Field(default=None, description="whose values filled it; none for the sample")
    subject: str
    text: str
    html: str
    sms: str | None = None


class SuppressionView(_Shown):
    email: str
    reason: str = Field(description="`hard_bounce`, `complaint` or `soft_bounce`")
    suppressed_at: str | None = None
    source: dict[str, Any] | None = Field(
        default=None, description="the event(s) that caused it, as SES reported them (SMTP words verbatim)"
    )
    soft_bounces: list[dict[str, Any]] | None = Field(
        default=None, description="the soft bounces counted toward it, oldest first"
    )


class SuppressionPage(_Row):
    items: list[SuppressionView]
    count: int
    next: str | None = Field(default=None, description="give it back as `after` for the following page")


class SuppressionRemoved(_Row):
    removed: SuppressionView


class CustomerErased(_Row):
    customer_id: str
    erased_at: str
    claims_kept_anonymously: int = Field(description="claims moved to an anonymous id: their codes stay held")
    messages_deleted: int
    events_deleted: int


class CustomerExport(_Row):
    """Everything stored about one customer (a data-subject access request).

    The sections are the stored items themselves less the key design, not an allow-list: an
    export must not leave out a field a later version stores."""

    customer_id: str
    exported_at: str
    profile: dict[str, Any]
    claims: list[dict[str, Any]]
    messages: list[dict[str, Any]] = Field(description="each with its `events`")
    suppressions: list[dict[str, Any]]
    lists: list[str]
    send_recipients: list[dict[str, Any]]


class SendCheck(_Row):
    """What scheduling a send would do, before it is scheduled (nothing is stored)."""

    send_at: str = Field(description="when it would go, with the offset of `timezone`")
    timezone: str
    preflight: PreflightView
    preview: SendPreview
