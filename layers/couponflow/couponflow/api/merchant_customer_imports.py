"""Merchant routes: customer imports at scale (a CSV or JSON Lines file, uploaded, run as a job)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.models.audience import CustomerImportIn
from couponflow.services.customer_imports import CustomerImports


def build(service: CustomerImports) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/customers/imports")
    def start_import(
        request: Annotated[CustomerImportIn | None, Body()] = None,
    ) -> Response[dict[str, Any]]:
        file_format = (request or CustomerImportIn()).format
        job = service.start_upload(merchant_id(router), file_format)
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    @router.get("/customers/imports/<job_id>")
    def get_import(job_id: str) -> dict[str, Any]:
        return service.get(merchant_id(router), job_id)

    return router
