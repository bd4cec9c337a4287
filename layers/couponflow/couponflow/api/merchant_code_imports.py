"""Merchant routes for loading codes at scale: CSV upload jobs and code generation jobs."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.api.responses import accepted
from couponflow.models.code_imports import CodeGenerationIn, CodeImportJob
from couponflow.services.code_imports import CodeImports


def build(service: CodeImports) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/campaigns/<campaign_id>/code-imports", responses=accepted(CodeImportJob))
    def start_import(campaign_id: str) -> Response[CodeImportJob]:
        """Start a CSV import: upload the file with the answer's `upload`, then follow the job."""
        job = CodeImportJob.model_validate(service.start_upload(merchant_id(router), campaign_id))
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    @router.get("/campaigns/<campaign_id>/code-imports/<job_id>")
    def get_import(campaign_id: str, job_id: str) -> CodeImportJob:
        """A code import or generation job: state, counts, progress."""
        return CodeImportJob.model_validate(service.get(merchant_id(router), campaign_id, job_id))

    @router.post("/campaigns/<campaign_id>/code-generations", responses=accepted(CodeImportJob))
    def start_generation(campaign_id: str, request: CodeGenerationIn) -> Response[CodeImportJob]:
        """Generate unique codes into the pool, as a job."""
        job = CodeImportJob.model_validate(
            service.start_generation(merchant_id(router), campaign_id, request)
        )
        return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=job)

    return router
