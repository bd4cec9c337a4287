"""The merchant's failure-report link (no API key; the signed token is the proof).

- ``GET /public/reports/{token}``: 302 to a fresh, short-lived presigned URL of the report CSV.

A forged, altered or foreign token: 403; a link past its 7 days, or a report already deleted:
410; a send without a report: 404. Errors are JSON naming the ``token`` field.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.domain.coupon_links import ExpiredLink, InvalidLink
from couponflow.errors import NotFoundError
from couponflow.http import error
from couponflow.services.send_reports import ReportGone, SendReports

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def build(reports: SendReports) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/public/reports/<token>")
    def download_report(token: str) -> Response[Any]:
        try:
            location = reports.download_url(token)
        except ExpiredLink as expired:
            return error(410, str(expired), "token")
        except InvalidLink as invalid:
            return error(403, str(invalid), "token")
        except ReportGone as gone:
            return error(410, str(gone), "token")
        except NotFoundError as missing:  # no such send, or a send without a report
            return error(404, str(missing), "token")
        return Response(status_code=302, body="", headers={"Location": location, **_NO_STORE})

    return router
