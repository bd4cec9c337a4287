"""The claim function's public routes beside the claim: coupon links, page views, send reports,
each router loaded by the first request that needs it.

Most of the claim function's cold starts serve a storefront's claim, whose router the function
includes at import. The other three routers (and the services behind them) wait for a request
of theirs, so a claim's cold start does not import them (0.02 to 0.03 s of its import on this
machine), and a coupon link's cold start imports its own router and the claim's alone.

API Gateway names the route a request matched in the event's ``resource`` (the template's
path); ``ROUTERS_BY_RESOURCE`` maps it to its router. A test holds the map to the template's
routes and to the routes each router declares. An event naming no known resource loads every
router, so the resolver answers it as it would with all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.adapters.secrets import Secret
from couponflow.api import on_first_request
from couponflow.api.on_first_request import service


@dataclass(frozen=True)
class Wiring:
    """What the public routers are built from."""

    table: Table
    link_secret: Secret  # read by the first request that signs or checks a link
    report_bucket: str


def _links(module: Any, w: Wiring) -> Any:
    return module.build(service("coupon_links", "CouponLinks")(w.table, w.link_secret))


def _page_views(module: Any, w: Wiring) -> Any:
    return module.build(w.table)


def _reports(module: Any, w: Wiring) -> Any:
    return module.build(service("send_reports", "SendReports")(w.table, w.link_secret, w.report_bucket))


# Each router's builder (``api/on_first_request.py``)
BUILDERS: dict[str, Callable[[Any, Wiring], Any]] = {
    "public_links": _links,
    "public_page_views": _page_views,
    "public_reports": _reports,
}

CLAIMS = "public_claims"  # included by the function at import: it takes the claim service
ROUTERS_BY_RESOURCE: dict[str, str] = {
    "/public/merchants/{merchantId}/campaigns/{campaignId}/claims": CLAIMS,
    "/public/merchants/{merchantId}/campaigns/{campaignId}/views": "public_page_views",
    "/public/merchants/{merchantId}/coupons/{token}": "public_links",
    "/public/merchants/{merchantId}/coupons/{token}/store": "public_links",
    "/public/unsubscribe/{token}": "public_links",
    "/public/reports/{token}": "public_reports",
}


def build(name: str, wiring: Wiring) -> APIGatewayRouter:
    return on_first_request.build(BUILDERS, name, wiring)


class OnFirstRequest(on_first_request.RoutersOnFirstRequest):
    """Includes in ``app`` the router a request's resource needs, the first time one does; the
    claim router is in ``app`` already."""

    def __init__(self, app: APIGatewayRestResolver, wiring: Wiring) -> None:
        super().__init__(app, BUILDERS, wiring, loaded=[CLAIMS])

    def include_for(self, resource: str | None) -> None:
        name = ROUTERS_BY_RESOURCE.get(resource or "")
        self.include([name] if name is not None else BUILDERS)
