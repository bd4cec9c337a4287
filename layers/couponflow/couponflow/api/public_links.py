"""Public routes behind the links in coupon emails (no API key; the signed token is the proof).

- ``GET  /public/merchants/{m}/coupons/{token}``: the coupon page (HTML): the code and a
  "go to the store" button. Records ``coupon_viewed``.
- ``GET  /public/merchants/{m}/coupons/{token}/store``: 302 to the store URL with UTM
  parameters. Records ``clicked_through``.
- ``GET  /public/unsubscribe/{token}``: a confirmation page whose button POSTs back.
- ``POST /public/unsubscribe/{token}``: unsubscribes (RFC 8058 one-click, or the button).

A tampered or foreign token is answered 400 JSON naming the ``token`` field.
"""

from __future__ import annotations

import html

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.domain.claim_status import ClaimStatus
from couponflow.services.coupon_links import CouponLinks, CouponPage

HTML = "text/html; charset=utf-8"
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body {{ font-family: Arial, sans-serif; color: #222; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; }}
.code {{ font-size: 2rem; font-weight: bold; letter-spacing: 2px; border: 2px dashed #0a7;
        padding: .75rem 1rem; display: inline-block; }}
.button {{ background: #0a7; color: #fff; padding: .75rem 1.25rem; text-decoration: none; border: 0;
          font-size: 1rem; cursor: pointer; display: inline-block; margin-top: 1.5rem; }}
.note {{ color: #666; font-size: .9rem; }}
</style></head>
<body>
{body}
</body></html>
"""


def _html(status: int, title: str, body: str) -> Response[str]:
    page = _PAGE.format(title=html.escape(title), body=body)
    return Response(status_code=status, content_type=HTML, body=page, headers=dict(_NO_STORE))


def coupon_page(page: CouponPage, token: str) -> Response[str]:
    name = html.escape(page.campaign_name)
    code = html.escape(page.code)
    if page.status == ClaimStatus.REDEEMED:
        note = "This coupon has already been used."
        body = f'<h1>{name}</h1>\n<p class="code" id="coupon-code">{code}</p>\n<p class="note">{note}</p>'
        return _html(200, name, body)
    if not page.usable:  # expired or released: the code went back to the pool, so it is not shown
        body = f'<h1>{name}</h1>\n<p class="note">This coupon has expired and can no longer be used.</p>'
        return _html(410, name, body)
    body = f'<h1>{name}</h1>\n<p>Your coupon code:</p>\n<p class="code" id="coupon-code">{code}</p>'
    if page.offer_expires_at:
        body += f'\n<p class="note">Valid until {html.escape(page.offer_expires_at[:10])}.</p>'
    if page.store_path:
        # Relative to this page's own URL (.../coupons/<token>), so it works under any stage or domain.
        href = html.escape(f"{token}/store", quote=True)
        body += f'\n<p><a class="button" id="go-to-store" href="{href}">Go to the store</a></p>'
    return _html(200, name, body)


def unsubscribe_form() -> Response[str]:
    body = (
        "<h1>Unsubscribe</h1>\n<p>Stop all emails from this shop?</p>\n"
        '<form method="post" action="">'
        '<button class="button" id="unsubscribe" type="submit">Unsubscribe</button></form>'
    )
    return _html(200, "Unsubscribe", body)


def unsubscribed_page() -> Response[str]:
    body = "<h1>You are unsubscribed</h1>\n<p>You will not get any more emails from this shop.</p>"
    return _html(200, "Unsubscribed", body)


def build(links: CouponLinks) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/public/merchants/<merchant_id>/coupons/<token>")
    def open_coupon(merchant_id: str, token: str) -> Response[str]:
        return coupon_page(links.open_coupon(merchant_id, token), token)

    @router.get("/public/merchants/<merchant_id>/coupons/<token>/store")
    def go_to_store(merchant_id: str, token: str) -> Response[str]:
        location = links.follow_to_store(merchant_id, token)
        return Response(status_code=302, body="", headers={"Location": location, **_NO_STORE})

    @router.get("/public/unsubscribe/<token>")
    def confirm_unsubscribe(token: str) -> Response[str]:
        links.check_unsubscribe(token)  # a bad token is refused here, before any button is shown
        return unsubscribe_form()

    @router.post("/public/unsubscribe/<token>")
    def unsubscribe(token: str) -> Response[str]:
        body = router.current_event.decoded_body or ""
        links.unsubscribe(token, one_click="List-Unsubscribe=One-Click" in body)
        return unsubscribed_page()

    return router
