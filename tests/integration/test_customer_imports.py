"""Customer imports at scale against moto's server: a CSV or JSON Lines file uploaded to the
presigned URL reaches the import queue through S3's notification, the import function (the same
one as code imports, job kind ``customers``) runs it chunk by chunk, and the job reports
created / updated / unchanged / duplicate / invalid counts with the first invalid rows."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from couponflow.adapters.dynamodb import Table
from couponflow.domain.audience import Channel, Exclusion, exclusion
from couponflow.ids import customer_id
from couponflow.services import segment_members
from couponflow.services.customer_imports import COUNTS, CustomerImports
from couponflow.services.import_jobs import ImportWorker
from couponflow.store import audience, import_jobs, keys
from couponflow.store.import_jobs import JobRef

from tests.integration.helpers import body_of, drain_queue, sqs_event

CSV = b"""email,phone,first_name,last_name,tags,last_interaction_at,marketing_consent
Ann@Example.com,+1 415 555 0101,Ann,Lee,vip;local,2026-11-01T10:00:00+00:00,yes
bob@example.com,,Bob,,,2026-10-01T10:00:00Z,
,+14155550103,Cy,,local|sms,,false
not-an-email,,Dee,,,,
eve@example.com,0415 555,Eve,,,,
,,Nobody,,,,
fay@example.com,,Fay,,,2026-11-01T10:00:00,
gus@example.com,,Gus,,extra,value,here,too
ANN@example.com ,,Annie,Lee,vip,2026-11-02T10:00:00+00:00,true
"""


def _start(api: Any, merchant_id: str, file_format: str = "csv") -> dict[str, Any]:
    started = api(merchant_id, "POST", "/customers/imports", "/customers/imports", {"format": file_format})
    assert started["statusCode"] == 202, started["body"]
    return dict(body_of(started))


def _upload(api: Any, merchant_id: str, data: bytes, file_format: str = "csv") -> str:
    job = _start(api, merchant_id, file_format)
    assert job["state"] == "awaiting_upload"
    upload = job["upload"]
    request = urllib.request.Request(upload["url"], data=data, method="PUT", headers=upload["headers"])
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    return str(job["import_id"])


def _job(api: Any, merchant_id: str, job_id: str) -> dict[str, Any]:
    response = api(merchant_id, "GET", "/customers/imports/{jobId}", f"/customers/imports/{job_id}")
    assert response["statusCode"] == 200, response["body"]
    return dict(body_of(response))


def _table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _counts(job: dict[str, Any]) -> tuple[int, ...]:
    return tuple(job[name] for name in COUNTS)


@pytest.fixture(autouse=True)
def _empty_import_queue(stack: Any) -> None:
    drain_queue(stack.physical["CodeImportQueue"])


def test_uploaded_csv_creates_customers_and_reports_counts_and_the_invalid_rows_with_reasons(
    stack, merchant, api, run_import_queue
):
    m = merchant[0]
    job_id = _upload(api, m, CSV)

    delivered = run_import_queue()

    assert any(
        r["s3"]["object"]["key"].startswith("customer-imports") for b in delivered for r in b["Records"]
    )
    job = _job(api, m, job_id)
    assert job["state"] == "done" and job["progress"] == 1.0
    # created: ann, bob, cy; duplicate: ann's second row (the last wins); invalid: five rows
    assert dict(zip(COUNTS, _counts(job), strict=True)) == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicate": 1,
        "invalid": 5,
    }
    assert job["rows"] == 9
    shown = [(r["line"], r.get("field"), r["reason"]) for r in job["invalid_rows"]]
    assert [line for line, _, _ in shown] == [5, 6, 7, 8, 9]
    assert shown[0][1:] == ("email", "email: email must contain exactly one @")
    assert shown[1][1] == "phone" and "E.164" in shown[1][2]
    assert shown[2][2] == "missing both email and phone"
    assert shown[3][1] == "last_interaction_at" and "time zone" in shown[3][2]
    assert "header has 7 columns" in shown[4][2]

    ann = audience.get_customer(_table(stack), m, customer_id(m, "ann@example.com"))
    assert ann is not None
    assert (ann["email"], ann["phone"], ann["first_name"], ann["name"]) == (
        "ann@example.com",
        "+14155550101",
        "Annie",
        "Annie Lee",
    )
    assert (ann["tags"], ann["marketing_consent"]) == (["vip"], True)
    assert ann["gsi2sk"] == f"2026-11-02T10:00:00+00:00#{ann['customer_id']}"  # listed by last interaction
    cy = audience.get_customer(_table(stack), m, customer_id(m, "+14155550103"))
    assert cy is not None and cy["tags"] == ["local", "sms"] and cy["marketing_consent"] is False


def test_reimporting_the_same_file_changes_nothing_and_counts_every_row_unchanged(
    stack, merchant, api, run_import_queue
):
    m = merchant[0]
    data = b"email,first_name,tags\n" + b"".join(f"r{i}@example.com,R{i},t\n".encode() for i in range(60))
    first = _upload(api, m, data)
    run_import_queue()
    before = audience.all_customers(_table(stack), m)

    second = _upload(api, m, data)
    run_import_queue()

    assert _counts(_job(api, m, first)) == (60, 0, 0, 0, 0)
    assert _counts(_job(api, m, second)) == (0, 0, 60, 0, 0)
    assert audience.all_customers(_table(stack), m) == before  # not even updated_at moved

    changed = data.replace(b"r7@example.com,R7", b"r7@example.com,Seven")
    third = _upload(api, m, changed)
    run_import_queue()
    assert _counts(_job(api, m, third)) == (0, 1, 59, 0, 0)


def test_an_import_never_resubscribes_an_unsubscribed_customer_nor_drops_fields_it_leaves_blank(
    stack, merchant, api, run_import_queue
):
    m = merchant[0]
    api(m, "POST", "/customers", "/customers", {"email": "gone@example.com", "phone": "+14155550199"})
    api(m, "POST", "/customers/{customerRef}/unsubscribe", "/customers/gone@example.com/unsubscribe")

    job_id = _upload(api, m, b"email,first_name,marketing_consent\ngone@example.com,Back,true\n")
    run_import_queue()

    assert _counts(_job(api, m, job_id)) == (0, 1, 0, 0, 0)
    gone = audience.get_customer(_table(stack), m, customer_id(m, "gone@example.com"))
    assert gone is not None and gone["unsubscribed_at"]  # still unsubscribed
    assert (gone["first_name"], gone["phone"]) == ("Back", "+14155550199")
    now = datetime.now(UTC)
    assert exclusion(gone, channel=Channel.EMAIL, now=now, suppressed=(), include_inactive=True) == (
        Exclusion.UNSUBSCRIBED
    )


def test_imported_customers_are_stored_listed_and_segmented_exactly_as_singly_created_ones(
    stack, merchant, api, run_import_queue
):
    m = merchant[0]
    recent = datetime.now(UTC).replace(microsecond=0).isoformat()
    single = {
        "email": "one@example.com",
        "first_name": "One",
        "tags": ["club"],
        "last_interaction_at": recent,
    }
    api(m, "POST", "/customers", "/customers", single)
    job_id = _upload(
        api, m, f"email,first_name,tags,last_interaction_at\ntwo@example.com,One,club,{recent}\n".encode()
    )
    run_import_queue()
    assert _job(api, m, job_id)["created"] == 1

    table = _table(stack)
    one = audience.get_customer(table, m, customer_id(m, "one@example.com"))
    two = audience.get_customer(table, m, customer_id(m, "two@example.com"))
    assert one is not None and two is not None
    differ = {
        "pk",
        "customer_id",
        "email",
        "gsi2pk",  # each customer's shard of the listing and search indexes
        "gsi2sk",
        "gsi3pk",
        "gsi3sk",
        "gsi4pk",
        "gsi4sk",
        "created_at",
        "updated_at",
        "last_import",
    }
    assert {k: v for k, v in one.items() if k not in differ} == {
        k: v for k, v in two.items() if k not in differ
    }
    assert two["gsi2pk"] == keys.customers_partition(m, keys.customer_shard(two["customer_id"]))
    assert two["gsi2sk"].startswith(recent)

    for rule in ({"has_tag": "club"}, {"active_within_days": 30}):
        segment = body_of(api(m, "POST", "/segments", "/segments", {"name": "Club", "rule": rule}))
        members = segment_members.members(table, m, segment["segment_id"])
        assert sorted(c["email"] for c in members.customers) == ["one@example.com", "two@example.com"]
        got = body_of(api(m, "GET", "/segments/{segmentId}", f"/segments/{segment['segment_id']}"))
        assert got["size"] == 2


def test_json_lines_import_counts_unknown_columns_and_bad_json_as_invalid_rows(
    stack, merchant, api, run_import_queue
):
    m = merchant[0]
    data = b"\n".join(
        [
            b'{"email": "j1@example.com", "tags": ["a", "b"], "marketing_consent": true}',
            b'{"email": "j2@example.com", "shoe_size": 42}',
            b'{"email": "j3@example.com"',
            b'["j4@example.com"]',
            b'{"phone": "+442071838750", "name": "Jo Phone"}',
        ]
    )
    job_id = _upload(api, m, data, "json")
    run_import_queue()

    job = _job(api, m, job_id)
    assert (job["state"], job["format"]) == ("done", "json")
    assert _counts(job) == (2, 0, 0, 0, 3)
    assert [(r["line"], r["reason"][:20]) for r in job["invalid_rows"]] == [
        (2, "unknown column 'shoe"),
        (3, "not valid JSON: Expe"),
        (4, "not a JSON object"),
    ]
    jo = audience.get_customer(_table(stack), m, customer_id(m, "+442071838750"))
    assert jo is not None and jo["name"] == "Jo Phone"


@pytest.mark.parametrize(
    ("file_format", "data", "reason"),
    [
        ("csv", b"email,shoe_size\na@example.com,42\n", "unknown column 'shoe_size'"),
        ("csv", b"a@example.com,Ann\nb@example.com,Bob\n", "unknown column 'a@example.com'"),
        ("csv", b"first_name\nAnn\n", "needs an email or a phone column"),
        ("csv", b"", "the file is empty"),
        ("json", b'[{"email": "a@example.com"}]', "JSON array"),
    ],
)
def test_a_malformed_file_ends_failed_with_the_reason_and_the_message_is_not_retried(
    stack, merchant, api, run_import_queue, file_format, data, reason
):
    m = merchant[0]
    job_id = _upload(api, m, data, file_format)

    run_import_queue()  # asserts the function reported no batch item failure: nothing loops

    job = _job(api, m, job_id)
    assert job["state"] == "failed" and reason in job["reason"], job
    assert job["created"] == 0


def test_a_job_short_of_time_continues_from_its_checkpoint_and_a_redelivered_chunk_never_counts_twice(
    stack, merchant
):
    m = merchant[0]
    table, queue = _table(stack), stack.physical["CodeImportQueue"]
    bucket = stack.physical["CodeImportBucket"]
    worker = ImportWorker(
        table, bucket, queue, CustomerImports(table, bucket).kinds(), chunk_bytes=1024, reserve_ms=1000
    )
    rows = [f"c{i:03d}@example.com,C{i}" for i in range(200)] + ["c000@example.com,Last"]
    body = ("email,first_name\n" + "\n".join(rows) + "\nbroken\n").encode()
    ref = JobRef(m, None, "cimp_resume0001")
    key = f"customer-imports/{m}/{ref.job_id}.csv"
    fields = {"kind": "customers", "format": "csv", "state": "awaiting_upload", "object_key": key}
    import_jobs.create(table, ref, fields, "2026-11-22T10:00:00+00:00", COUNTS)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    drain_queue(queue)  # the S3 notification; this test drives the worker directly
    budget = iter([5000, 0])  # the first chunk always runs; then one more, then the time is up

    assert worker.on_uploaded(key, len(body), lambda: next(budget)) == "continued"
    partway = import_jobs.get(table, ref)
    assert partway["chunks_done"] == 2 and 0 < partway["offset"] < len(body)
    (continuation,) = drain_queue(queue)
    assert continuation == {"merchant_id": m, "job_id": ref.job_id}

    # a crash after the third chunk's writes, before its checkpoint: the redelivery does it again
    kind = worker.kinds["customers"]
    kind.step(partway, worker._read(partway))
    assert import_jobs.get(table, ref)["offset"] == partway["offset"]  # no checkpoint saved

    assert worker.run(ref, lambda: 5000) == "done"
    done = import_jobs.get(table, ref)
    assert dict(zip(COUNTS, (done[c] for c in COUNTS), strict=True)) == {
        "created": 200,
        "updated": 0,
        "unchanged": 0,
        "duplicate": 1,  # c000's second row, in another chunk: counted once, the last row wins
        "invalid": 1,
    }
    assert done["rows"] == 202 and done["invalid_rows"][0]["line"] == 203
    c000 = audience.get_customer(table, m, customer_id(m, "c000@example.com"))
    assert c000 is not None and c000["first_name"] == "Last"


def test_an_import_of_an_unknown_format_is_refused_naming_the_field(merchant, api):
    response = api(merchant[0], "POST", "/customers/imports", "/customers/imports", {"format": "xlsx"})
    assert (response["statusCode"], body_of(response)["field"]) == (422, "format")
    missing = api(merchant[0], "GET", "/customers/imports/{jobId}", "/customers/imports/cimp_nope")
    assert missing["statusCode"] == 404


def test_a_body_less_start_defaults_to_csv(merchant, api):
    started = api(merchant[0], "POST", "/customers/imports", "/customers/imports")
    assert started["statusCode"] == 202, started["body"]
    job = body_of(started)
    assert (job["format"], job["upload"]["headers"]) == ("csv", {"Content-Type": "text/csv"})


@pytest.mark.parametrize(("receives", "state"), [("1", "running"), ("5", "failed")])
def test_an_error_is_retried_by_the_queue_and_its_last_try_marks_the_job_failed_with_the_error(
    stack, merchant, load_handler, lambda_context, receives, state
):
    m = merchant[0]
    table = _table(stack)
    ref = JobRef(m, None, f"cimp_gone{receives}")
    key = f"customer-imports/{m}/{ref.job_id}.csv"  # never uploaded: every read of it fails
    fields = {"kind": "customers", "format": "csv", "state": "running", "object_key": key, "total_bytes": 99}
    import_jobs.create(table, ref, fields, "2026-11-22T10:00:00+00:00", COUNTS)
    event = sqs_event([json.dumps({"merchant_id": m, "job_id": ref.job_id})])
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = receives

    with pytest.raises(BatchProcessingError, match="could not read"):  # the batch of one failed: retried
        load_handler("CodeImportFunction").lambda_handler(event, lambda_context)

    job = import_jobs.get(table, ref)
    assert job["state"] == state
    if state == "failed":
        assert job["reason"].startswith("the import stopped on an error: could not read")
