"""The store reports a redemption: the claim that holds the code becomes ``redeemed``, once.

The code registry item (``store.keys.code_registry``) knows which customer holds the code, so
the report needs only the campaign, the code and the store's order id. A second report of the
same code with the same order id is answered as the first (a store's retry is safe); with
another order id it is refused with the reason and the first order id; a code the campaign never had is
unknown (404); a code that expired or was released, or was never handed out, is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.errors import ConflictError, NotFoundError
from couponflow.models.redemptions import RedemptionIn
from couponflow.services.campaigns import public
from couponflow.store import campaigns, claim_progress

_REFUSALS = {
    "already_redeemed": "code {code} was already redeemed",
    "expired": "code {code} expired unused and went back to the pool",
    "released": "code {code} was released back to the pool (its email was not delivered)",
    "not_handed_out": "code {code} has not been handed out to any customer",
}


class RedemptionRefused(ConflictError):
    """The code cannot be redeemed; ``details`` says why (and the first order id if redeemed)."""


@dataclass(frozen=True)
class Redemptions:
    table: Table

    def report(self, merchant_id: str, request: RedemptionIn, now: datetime | None = None) -> dict[str, Any]:
        campaigns.get_item(self.table, merchant_id, request.campaign_id)  # 404 for an unknown campaign
        stamp = (now or datetime.now(UTC)).isoformat()
        outcome = claim_progress.redeem(
            self.table, merchant_id, request.campaign_id, request.code, request.order_id, at=stamp
        )
        if outcome is None:
            raise NotFoundError(f"code '{request.code}' is not a code of campaign '{request.campaign_id}'")
        if not outcome.ok:
            reason = outcome.reason or "not_handed_out"
            message = _REFUSALS.get(reason, "code {code} cannot be redeemed").format(code=request.code)
            details: dict[str, Any] = {"field": "code", "reason": reason}
            if outcome.first_order_id:
                details.update(first_order_id=outcome.first_order_id, redeemed_at=outcome.redeemed_at)
            raise RedemptionRefused(message, details)
        assert outcome.claim is not None
        return {"status": "redeemed", "order_id": request.order_id, "claim": public(outcome.claim)}
