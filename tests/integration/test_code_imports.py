"""Code loading at scale against moto's server: a CSV uploaded to the presigned URL reaches the
import queue through S3's notification, the import function runs the job chunk by chunk, and the
job reports progress and imported / duplicate / invalid counts; generated codes take the same path."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.ids import customer_id
from couponflow.services.code_imports import COUNTS, CodeImports
from couponflow.services.import_jobs import ImportWorker
from couponflow.store import campaigns, claims, code_imports, import_jobs, keys
from couponflow.store.import_jobs import JobRef

from tests.integration.helpers import body_of, merchant_event

NOW = "2026-11-22T10:00:00+00:00"


def _drain(url: str) -> list[str]:
    sqs = boto3.client("sqs")
    bodies = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


@pytest.fixture()
def api(load_handler: Callable[[str], ModuleType], lambda_context: Any, merchant: tuple[str, str]) -> Any:
    module = load_handler("MerchantApiFunction")

    def call(method: str, resource: str, path: str, body: Any = None) -> dict[str, Any]:
        response: dict[str, Any] = module.lambda_handler(
            merchant_event(merchant[0], method, resource, path, body), lambda_context
        )
        return response

    return call


def _new_campaign(stack: Any, merchant_id: str, campaign_id: str, codes: list[str]) -> Table:
    table = Table(stack.physical["CouponflowTable"])
    campaigns.create(table, Campaign(merchant_id, campaign_id, "Import", "Subject", "email"), NOW)
    if codes:
        campaigns.add_codes(table, merchant_id, campaign_id, codes, NOW)
    return table


def _upload(api: Any, campaign_id: str, csv: bytes) -> str:
    started = api("POST", "/campaigns/{campaignId}/code-imports", f"/campaigns/{campaign_id}/code-imports")
    assert started["statusCode"] == 202, started["body"]
    job = body_of(started)
    assert job["state"] == "awaiting_upload"
    request = urllib.request.Request(
        job["upload"]["url"], data=csv, method="PUT", headers=job["upload"]["headers"]
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    return str(job["job_id"])


def _job(api: Any, campaign_id: str, job_id: str) -> dict[str, Any]:
    path = f"/campaigns/{campaign_id}/code-imports/{job_id}"
    return dict(body_of(api("GET", "/campaigns/{campaignId}/code-imports/{jobId}", path)))


def test_uploaded_csv_is_imported_through_the_s3_notification_with_counts(
    stack, merchant, api, run_import_queue
):
    _drain(stack.physical["CodeImportQueue"])
    table = _new_campaign(stack, merchant[0], "cmp_csv", ["CSV-0001"])
    csv = b'code\nCSV-0001\nCSV-0002\nCSV-0003,extra column\n\nnot a code!\nCSV-0002\n"CSV-0004"\nCSV-0005'
    job_id = _upload(api, "cmp_csv", csv)

    delivered = run_import_queue()

    assert any("ObjectCreated" in json.dumps(body) for body in delivered)  # S3 told the queue
    job = _job(api, "cmp_csv", job_id)
    assert job["state"] == "done"
    assert (job["imported"], job["duplicate"], job["invalid"], job["progress"]) == (4, 2, 1, 1.0)
    assert campaigns.count_available(table, merchant[0], "cmp_csv") == 5


def test_reupload_never_gives_a_customer_who_claimed_a_different_code_or_frees_their_code(
    stack, merchant, api, run_import_queue
):
    _drain(stack.physical["CodeImportQueue"])
    table = _new_campaign(stack, merchant[0], "cmp_reup", [])
    _upload(api, "cmp_reup", b"REUP-0001\n")
    run_import_queue()
    campaign = campaigns.get(table, merchant[0], "cmp_reup")
    who = claims.Claimant(customer_id(merchant[0], "ann@example.com"), "ann@example.com", None, False)
    first = claims.assign(table, campaign, who, now=NOW, day="2026-11-22", message_id="msg_reup_1")
    assert first.code == "REUP-0001"

    job_id = _upload(api, "cmp_reup", b"REUP-0001\nREUP-0002\n")
    run_import_queue()

    job = _job(api, "cmp_reup", job_id)
    assert (job["imported"], job["duplicate"]) == (1, 1)
    assert table.get(keys.pool_code(merchant[0], "cmp_reup", "REUP-0001")) is None  # still handed out
    again = claims.assign(
        table,
        campaigns.get(table, merchant[0], "cmp_reup"),
        who,
        now=NOW,
        day="2026-11-22",
        message_id="msg_2",
    )
    assert again.code == "REUP-0001"


def test_a_job_short_of_time_queues_its_continuation_and_resumes_from_the_saved_offset(stack, merchant):
    queue = stack.physical["CodeImportQueue"]
    _drain(queue)
    table = _new_campaign(stack, merchant[0], "cmp_resume", [])
    rows = [f"RES-{i:05d}" for i in range(300)]
    bucket = stack.physical["CodeImportBucket"]
    kinds = CodeImports(table, bucket, queue).kinds()
    service = ImportWorker(table, bucket, queue, kinds, chunk_bytes=1024, reserve_ms=1000)
    ref = JobRef(merchant[0], "cmp_resume", "imp_resume0001")
    key = f"code-imports/{ref.merchant_id}/{ref.campaign_id}/{ref.job_id}.csv"
    fields = {"kind": "csv", "state": "awaiting_upload", "object_key": key}
    import_jobs.create(table, ref, fields, NOW, COUNTS)
    body = "\n".join(rows).encode()
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    _drain(queue)  # the S3 notification; this test drives the service directly
    budget = iter([5000, 0])  # the first chunk always runs; then one more, then the time is up

    assert service.on_uploaded(key, len(body), lambda: next(budget)) == "continued"
    partway = import_jobs.get(table, ref)
    assert partway["chunks_done"] == 2 and 0 < partway["offset"] < len(body)
    (continuation,) = [json.loads(b) for b in _drain(queue)]
    assert continuation == {"merchant_id": merchant[0], "campaign_id": "cmp_resume", "job_id": ref.job_id}

    assert service.run(ref, lambda: 5000) == "done"
    done = import_jobs.get(table, ref)
    assert (done["imported"], done["duplicate"], done["invalid"], done["rows"]) == (300, 0, 0, 300)


def test_a_retried_chunk_counts_its_own_codes_as_imported_and_other_chunks_as_duplicates(stack, merchant):
    table = _new_campaign(stack, merchant[0], "cmp_retry", [])
    ref = JobRef(merchant[0], "cmp_retry", "imp_retry0001")
    codes = [f"RTY-{i:03d}" for i in range(120)]
    first = code_imports.load_codes(table, ref, codes, chunk="0", now=NOW)
    retried = code_imports.load_codes(table, ref, codes, chunk="0", now=NOW)
    later = code_imports.load_codes(table, ref, codes[:10], chunk="4096", now=NOW)
    assert (first.imported, retried.imported, retried.duplicate) == (120, 120, 0)
    assert (later.imported, later.duplicate) == (0, 10)


def test_generated_codes_are_loaded_through_the_import_queue(stack, merchant, api, run_import_queue):
    _drain(stack.physical["CodeImportQueue"])
    table = _new_campaign(stack, merchant[0], "cmp_gen", [])
    path = "/campaigns/cmp_gen/code-generations"
    body = {"count": 1200, "length": 8, "alphabet": "ABCDEFGHJKMNPQRSTUVWXYZ23456789", "prefix": "GEN-"}
    started = api("POST", "/campaigns/{campaignId}/code-generations", path, body)
    assert started["statusCode"] == 202, started["body"]

    run_import_queue()

    job = _job(api, "cmp_gen", body_of(started)["job_id"])
    assert (job["state"], job["imported"], job["requested"], job["progress"]) == ("done", 1200, 1200, 1.0)
    assert "seed" not in job
    codes = campaigns.available_codes(table, merchant[0], "cmp_gen", 0, 1000)
    assert codes and all(c.startswith("GEN-") and len(c) == 12 for c in codes)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"count": 1000, "length": 4, "alphabet": "AB"}, 400, "length"),
        ({"count": 10, "alphabet": "AB CD"}, 422, "alphabet"),
        ({"count": 0}, 422, "count"),
        ({"count": 10, "prefix": "-bad"}, 422, "prefix"),
    ],
)
def test_invalid_generation_request_names_the_field(stack, merchant, api, body, status, field):
    _new_campaign(stack, merchant[0], "cmp_genbad", [])
    path = "/campaigns/cmp_genbad/code-generations"
    response = api("POST", "/campaigns/{campaignId}/code-generations", path, body)
    assert (response["statusCode"], body_of(response)["field"]) == (status, field)


def test_import_of_unknown_campaign_is_404(merchant, api):
    response = api("POST", "/campaigns/{campaignId}/code-imports", "/campaigns/cmp_nope/code-imports")
    assert response["statusCode"] == 404
