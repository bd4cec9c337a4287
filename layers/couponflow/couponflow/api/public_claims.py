"""Public routes: the claim storefronts and landing pages call (no API key)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.models.api import ClaimIn, ClaimOut
from couponflow.services.claims import ClaimService


def build(service: ClaimService) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/public/merchants/<merchant_id>/campaigns/<campaign_id>/claims")
    def post_claim(merchant_id: str, campaign_id: str, claim: ClaimIn) -> Response[ClaimOut]:
        outcome, created = service.claim(merchant_id, campaign_id, claim)
        status = 201 if created else 200
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=outcome)

    return router
