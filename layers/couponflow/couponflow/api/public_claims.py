"""Public routes: the claim storefronts and landing pages call (no API key)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.public_links import stage_url
from couponflow.api.responses import answered
from couponflow.http import error
from couponflow.models.api import ClaimIn, ClaimOut
from couponflow.services.claim_idempotency import (
    HEADER,
    ClaimIdempotency,
    IdempotencyInProgress,
    IdempotencyKeyReused,
)
from couponflow.services.claims import ClaimService
from couponflow.services.coupon_links import LinkSigner

MAX_IDEMPOTENCY_KEY = 255


def build(
    service: ClaimService, link_secret: str | None = None, idempotency: ClaimIdempotency | None = None
) -> APIGatewayRouter:
    router = APIGatewayRouter()

    def claim_answer(merchant_id: str, campaign_id: str, claim: ClaimIn) -> dict[str, Any]:
        outcome, created = service.claim(merchant_id, campaign_id, claim)
        return {"status_code": 201 if created else 200, "body": outcome.model_dump(mode="json")}

    @router.post(
        "/public/merchants/<merchant_id>/campaigns/<campaign_id>/claims",
        responses={
            **answered(200, ClaimOut, "a repeat claim (the same code), or out of coupons"),
            **answered(201, ClaimOut, "a new claim: a code was assigned"),
        },
    )
    def post_claim(merchant_id: str, campaign_id: str, claim: ClaimIn) -> Response[Any]:
        key = router.current_event.headers.get(HEADER)  # case-insensitive
        if key is not None and not 1 <= len(key.strip()) <= MAX_IDEMPOTENCY_KEY:
            return error(422, f"{HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} characters", HEADER)
        try:
            if key is not None and idempotency is not None:
                body = claim.model_dump(mode="json")
                answer = idempotency.once(
                    merchant_id,
                    campaign_id,
                    key.strip(),
                    body,
                    lambda: claim_answer(merchant_id, campaign_id, claim),
                )
            else:
                answer = claim_answer(merchant_id, campaign_id, claim)
        except IdempotencyKeyReused as reused:
            return error(422, str(reused), HEADER)
        except IdempotencyInProgress as busy:
            response = error(409, str(busy), HEADER)
            response.headers["Retry-After"] = str(busy.retry_after)
            return response
        outcome = ClaimOut.model_validate(answer["body"])
        if outcome.code and link_secret:  # the code is shown on the page: so is its coupon link
            links = LinkSigner(link_secret, stage_url(router.current_event))
            coupon_url = links.coupon_url(merchant_id, outcome.customer_id, campaign_id)
            outcome = outcome.model_copy(update={"coupon_url": coupon_url})
        status = int(answer["status_code"])
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=outcome)

    return router
