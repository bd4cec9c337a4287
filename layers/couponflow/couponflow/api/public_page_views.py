"""Public route: a landing page reports a view by an anonymous visitor, before any email is asked.

``POST /public/merchants/{m}/campaigns/{c}/views`` with ``{"visitor_id": "..."}``: the page makes
up a random visitor id once (e.g. a UUID kept in localStorage or a first-party cookie) and sends
it with each view; the view is recorded as ``page_viewed`` for that visitor and campaign. No
personal data: the id means nothing outside this campaign's view counts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.responses import accepted
from couponflow.models.page_views import PageViewIn, PageViewOut
from couponflow.store import campaigns, page_views


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post(
        "/public/merchants/<merchant_id>/campaigns/<campaign_id>/views", responses=accepted(PageViewOut)
    )
    def post_view(merchant_id: str, campaign_id: str, view: PageViewIn) -> Response[PageViewOut]:
        campaigns.get_item(table, merchant_id, campaign_id)  # 404 for an unknown campaign
        first = page_views.record(
            table, merchant_id, campaign_id, view.visitor_id, datetime.now(UTC).isoformat()
        )
        body = PageViewOut(status="page_viewed", visitor_id=view.visitor_id, first_view=first)
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)

    return router
