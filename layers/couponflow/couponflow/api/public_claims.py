"""Public routes: the claim storefronts and landing pages call (no API key)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.public_links import stage_url
from couponflow.models.api import ClaimIn, ClaimOut
from couponflow.services.claims import ClaimService
from couponflow.services.coupon_links import LinkSigner


def build(service: ClaimService, link_secret: str | None = None) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/public/merchants/<merchant_id>/campaigns/<campaign_id>/claims")
    def post_claim(merchant_id: str, campaign_id: str, claim: ClaimIn) -> Response[ClaimOut]:
        outcome, created = service.claim(merchant_id, campaign_id, claim)
        if outcome.code and link_secret:  # the code is shown on the page: so is its coupon link
            links = LinkSigner(link_secret, stage_url(router.current_event))
            coupon_url = links.coupon_url(merchant_id, outcome.customer_id, campaign_id)
            outcome = outcome.model_copy(update={"coupon_url": coupon_url})
        status = 201 if created else 200
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=outcome)

    return router
