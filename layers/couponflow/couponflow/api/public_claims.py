"""Public routes: the claim storefronts and landing pages call (no API key)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.secrets import Secret, value_of
from couponflow.api.responses import answered
from couponflow.http import error, stage_url
from couponflow.models.claims import ClaimIn, ClaimOut
from couponflow.services.claims import ClaimService, IdempotencyKeyReused
from couponflow.services.link_signer import LinkSigner

HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255


def build(service: ClaimService, link_secret: Secret | None = None) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post(
        "/public/merchants/<merchant_id>/campaigns/<campaign_id>/claims",
        responses={
            **answered(200, ClaimOut, "a repeat claim (the same code), or out of coupons"),
            **answered(201, ClaimOut, "a new claim: a code was assigned"),
        },
    )
    def post_claim(merchant_id: str, campaign_id: str, claim: ClaimIn) -> Response[Any]:
        """Claim a coupon for a customer. With an `Idempotency-Key` header (1 to 255 characters)
        a retry gets the first answer again (24 hours), and the same key with another body a 422.
        (Answers are typed by `responses`: a refusal here is no `ClaimOut`.)"""
        key = router.current_event.headers.get(HEADER)  # case-insensitive
        if key is not None and not 1 <= len(key.strip()) <= MAX_IDEMPOTENCY_KEY:
            return error(422, f"{HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} characters", HEADER)
        try:
            outcome, created = service.claim(
                merchant_id, campaign_id, claim, idempotency_key=key.strip() if key is not None else None
            )
        except IdempotencyKeyReused as reused:
            return error(422, str(reused), HEADER)
        if outcome.code and link_secret:  # the code is shown on the page: so is its coupon link
            links = LinkSigner(value_of(link_secret), stage_url(router.current_event))
            coupon_url = links.coupon_url(merchant_id, outcome.customer_id, campaign_id)
            outcome = outcome.model_copy(update={"coupon_url": coupon_url})
        return Response(
            status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=outcome
        )

    return router
