"""Merchant routes: customer imports at scale (a CSV or JSON Lines file, uploaded, run as a job)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.api.responses import accepted
from couponflow.models.audience import CustomerImportIn, CustomerImportJob
from couponflow.services.customer_imports import CustomerImports


def build(service: CustomerImports) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/customers/imports", responses=accepted(CustomerImportJob))
    def start_import(
        request: Annotated[CustomerImportIn | None, Body()] = None,
    ) -> Response[CustomerImportJob]:
        """Start a customer file import: upload the file with the answer's `upload`, then follow it."""
        file_format = (request or CustomerImportIn()).format
        job = CustomerImportJob.model_validate(service.start_upload(merchant_id(router), file_format))
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    @router.get("/customers/imports/<job_id>")
    def get_import(job_id: str) -> CustomerImportJob:
        """A customer import: state, counts, the first invalid rows, progress."""
        return CustomerImportJob.model_validate(service.get(merchant_id(router), job_id))

    return router
