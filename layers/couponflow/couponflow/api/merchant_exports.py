"""Merchant routes: the list views as CSV. ``GET`` answers up to 5,000 rows at once (``X-Next`` when
the list goes on); ``POST`` to the same route starts an export job for a list of any length, and
``GET /export-jobs/{id}`` follows it to its download link (``services/export_jobs.py``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.api.merchant_lists import Activity, Next
from couponflow.api.responses import accepted, csv_rows
from couponflow.domain.list_views import CampaignRowStatus
from couponflow.domain.send_tracker import TrackerStatus
from couponflow.models.exports import ExportJob
from couponflow.services import list_exports
from couponflow.services.export_jobs import ExportJobs
from couponflow.services.list_exports import View

Q = Annotated[str | None, Query(max_length=254, description="email or name prefix, any case")]
ActivityFilter = Annotated[Activity | None, Query(description="interaction within 365 days or not")]
RowStatus = Annotated[CampaignRowStatus | None, Query(description="the row status")]
Tracker = Annotated[TrackerStatus | None, Query(description="the tracker status")]


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def build(table: Table, jobs: ExportJobs) -> APIGatewayRouter:
    router = APIGatewayRouter()

    def inline(view: View, filters: dict[str, str | None], after: str | None) -> Response[str]:
        source = list_exports.source(table, merchant_id(router), view, filters)
        done = list_exports.export(source, after=after)
        headers = {"Content-Disposition": f'attachment; filename="{source.name}.csv"'}
        if done.next:
            headers["X-Next"] = done.next  # the list goes on: ask again with next=<this>
        return Response(
            status_code=200, content_type="text/csv; charset=utf-8", body=done.text, headers=headers
        )

    def job(view: View, filters: dict[str, str | None]) -> Response[ExportJob]:
        started = jobs.start(merchant_id(router), view, filters)
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=started)

    @router.get("/exports/customers", responses=csv_rows())
    def export_customers(status: ActivityFilter = None, q: Q = None, next: Next = None) -> Response[str]:
        """The customers tab as CSV (the columns of `GET /customers`), up to 5,000 rows; a longer
        list answers its cursor in `X-Next`."""
        return inline(View.CUSTOMERS, {"status": _text(status), "q": q}, next)

    @router.post("/exports/customers", responses=accepted(ExportJob))
    def export_customers_job(status: ActivityFilter = None, q: Q = None) -> Response[ExportJob]:
        """The customers tab as one CSV file, however long: a job; follow it at `/export-jobs/{id}`."""
        return job(View.CUSTOMERS, {"status": _text(status), "q": q})

    @router.get("/exports/campaigns/<campaign_id>/customers", responses=csv_rows())
    def export_campaign_customers(
        campaign_id: str, status: RowStatus = None, next: Next = None
    ) -> Response[str]:
        """A campaign's customers as CSV (the columns of `GET /campaigns/{id}/customers`)."""
        return inline(View.CAMPAIGN_CUSTOMERS, {"campaign_id": campaign_id, "status": _text(status)}, next)

    @router.post("/exports/campaigns/<campaign_id>/customers", responses=accepted(ExportJob))
    def export_campaign_customers_job(campaign_id: str, status: RowStatus = None) -> Response[ExportJob]:
        """A campaign's customers as one CSV file, however long: a job."""
        return job(View.CAMPAIGN_CUSTOMERS, {"campaign_id": campaign_id, "status": _text(status)})

    @router.get("/exports/sends/<send_id>/recipients", responses=csv_rows())
    def export_send_recipients(send_id: str, status: Tracker = None, next: Next = None) -> Response[str]:
        """A send's tracker as CSV (the columns of `GET /sends/{id}/recipients`)."""
        return inline(View.SEND_RECIPIENTS, {"send_id": send_id, "status": _text(status)}, next)

    @router.post("/exports/sends/<send_id>/recipients", responses=accepted(ExportJob))
    def export_send_recipients_job(send_id: str, status: Tracker = None) -> Response[ExportJob]:
        """A send's tracker as one CSV file, however long: a job."""
        return job(View.SEND_RECIPIENTS, {"send_id": send_id, "status": _text(status)})

    @router.get("/export-jobs/<job_id>")
    def get_export_job(job_id: str) -> ExportJob:
        """An export job: its state and rows so far; once done, a link to its file (15 minutes;
        ask again for a fresh one while the file is kept, 7 days)."""
        return jobs.get(merchant_id(router), job_id)

    return router
