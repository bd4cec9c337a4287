"""Merchant routes: the list views (customers tab, campaigns, a campaign's customers, segments and their
members, the sends activity list, a send's tracker), each paged with ``limit`` and ``next``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.domain.list_views import CampaignRowStatus
from couponflow.domain.send_schedule import SendStatus
from couponflow.domain.send_tracker import TrackerStatus
from couponflow.models.views import (
    CampaignCustomerPage,
    CampaignPage,
    ClaimPage,
    CustomerPage,
    RecipientPage,
    SegmentPage,
    SendPage,
)
from couponflow.services import lists

Limit = Annotated[int, Query(ge=1, le=200, description="rows per page")]
Next = Annotated[str | None, Query(max_length=2048, description="the `next` of the previous page")]
Id = Annotated[str, Query(min_length=1, max_length=64)]


class Activity(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/customers")
    def list_customers(
        status: Annotated[Activity | None, Query(description="interaction within 365 days or not")] = None,
        q: Annotated[str | None, Query(max_length=254, description="email or name prefix, any case")] = None,
        limit: Limit = 50,
        next: Next = None,
    ) -> CustomerPage:
        """The customers tab: newest interaction first, by activity, found by email or name.

        `q` matches the start of the email, then of the name (first name first), ignoring case.
        `lists` counts the static segments a customer is in."""
        shown = str(status) if status else None
        return lists.customers(table, merchant_id(router), status=shown, q=q, limit=limit, after=next)

    @router.get("/campaigns")
    def list_campaigns(
        limit: Annotated[int, Query(ge=1, le=100, description="rows per page")] = 25, next: Next = None
    ) -> CampaignPage:
        """The merchant's campaigns, newest first, each with its codes left and its alerts."""
        return lists.campaign_list(table, merchant_id(router), limit=limit, after=next)

    @router.get("/campaigns/<campaign_id>/claims")
    def list_claims(campaign_id: str, limit: Limit = 50, next: Next = None) -> ClaimPage:
        """A campaign's claims as stored: code, status and when each status was reached."""
        return lists.campaign_claims(table, merchant_id(router), campaign_id, limit=limit, after=next)

    @router.get("/campaigns/<campaign_id>/customers")
    def list_campaign_customers(
        campaign_id: str,
        status: Annotated[CampaignRowStatus | None, Query(description="the row status")] = None,
        limit: Limit = 50,
        next: Next = None,
    ) -> CampaignCustomerPage:
        """A campaign's customers with their Status and Integration status (LandingCube's list)."""
        return lists.campaign_customers(
            table, merchant_id(router), campaign_id, status=status, limit=limit, after=next
        )

    @router.get("/segments")
    def list_segments(limit: Limit = 50, next: Next = None) -> SegmentPage:
        """The merchant's segments (static lists and rules), newest first."""
        return lists.segments(table, merchant_id(router), limit=limit, after=next)

    @router.get("/segments/<segment_id>/members")
    def list_segment_members(segment_id: str, limit: Limit = 50, next: Next = None) -> CustomerPage:
        """The customers a segment holds now: a list's members, or those its rule matches."""
        return lists.members(table, merchant_id(router), segment_id, limit=limit, after=next)

    @router.get("/sends")
    def list_sends(
        segment_id: Annotated[str | None, Query(max_length=64)] = None,
        status: Annotated[SendStatus | None, Query()] = None,
        limit: Limit = 50,
        next: Next = None,
    ) -> SendPage:
        """The sends activity list, newest first, with counts and the report link while it lasts."""
        shown = str(status) if status else None
        return lists.send_list(
            table, merchant_id(router), segment_id=segment_id, status=shown, limit=limit, after=next
        )

    @router.get("/sends/<send_id>/recipients")
    def list_send_recipients(
        send_id: str,
        status: Annotated[TrackerStatus | None, Query(description="the tracker status")] = None,
        limit: Limit = 50,
        next: Next = None,
    ) -> RecipientPage:
        """The send tracker: each recipient's status (Sendoso's words) and send issue."""
        return lists.recipients(table, merchant_id(router), send_id, status=status, limit=limit, after=next)

    return router
