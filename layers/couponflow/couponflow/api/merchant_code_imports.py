"""Merchant routes for loading codes at scale: CSV upload jobs and code generation jobs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.models.code_imports import CodeGenerationIn
from couponflow.services.code_imports import CodeImports


def build(service: CodeImports) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/campaigns/<campaign_id>/code-imports")
    def start_import(campaign_id: str) -> Response[dict[str, Any]]:
        job = service.start_upload(merchant_id(router), campaign_id)
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    @router.get("/campaigns/<campaign_id>/code-imports/<job_id>")
    def get_import(campaign_id: str, job_id: str) -> dict[str, Any]:
        return service.get(merchant_id(router), campaign_id, job_id)

    @router.post("/campaigns/<campaign_id>/code-generations")
    def start_generation(campaign_id: str, request: CodeGenerationIn) -> Response[dict[str, Any]]:
        job = service.start_generation(merchant_id(router), campaign_id, request)
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    return router
