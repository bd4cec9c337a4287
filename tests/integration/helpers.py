"""Small builders over the sample events, so tests change only what they are about."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import load_event


def claim_event(merchant_id: str, campaign_id: str, body: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("claim/post_claim"))
    path = f"/public/merchants/{merchant_id}/campaigns/{campaign_id}/claims"
    event["path"] = path
    event["pathParameters"] = {"merchantId": merchant_id, "campaignId": campaign_id}
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    return event


def merchant_event(
    merchant_id: str,
    method: str,
    resource: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = copy.deepcopy(load_event("merchant_api/create_campaign"))
    event.update({"httpMethod": method, "resource": resource, "path": path})
    event["requestContext"].update({"httpMethod": method, "resourcePath": resource})
    event["requestContext"]["authorizer"] = {"principalId": merchant_id, "merchant_id": merchant_id}
    event["body"] = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return event


def sqs_event(bodies: list[str], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q") -> dict[str, Any]:
    template = load_event("mailer/mail_job")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record.update({"messageId": str(uuid.uuid4()), "body": body, "eventSourceARN": queue_arn})
        records.append(record)
    return {"Records": records}


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def drain_queue(url: str) -> list[dict[str, Any]]:
    """Receive and delete everything on a queue; the JSON bodies, in order received."""
    sqs = boto3.client("sqs")
    bodies = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def ses_record(sample: str, ses_id: str, tags: dict[str, str] | None, recipient: str) -> str:
    """A sample SES event re-addressed to our message, wrapped in an SNS envelope."""
    record = copy.deepcopy(load_event(f"ses/{sample}"))
    record["mail"]["messageId"] = ses_id
    record["mail"]["destination"] = [recipient]
    record["mail"]["tags"] = {k: [v] for k, v in (tags or {}).items()}
    for section, field in (("bounce", "bouncedRecipients"), ("complaint", "complainedRecipients")):
        if section in record:
            record[section][field] = [{**record[section][field][0], "emailAddress": recipient}]
    if "delivery" in record:
        record["delivery"]["recipients"] = [recipient]
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "sns-1",
            "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": json.dumps(record),
            "Timestamp": "2026-11-22T10:00:00.000Z",
        }
    )


@contextmanager
def answer_lost_then_sent_again(
    client: Any, operation: str, matches: Callable[[str], bool]
) -> Iterator[list[int]]:
    """The first ``operation`` request of ``client`` whose body ``matches`` reaches AWS and takes
    effect, then its answer is lost (a read timeout), so botocore's retry sends it again: what a
    conditional write meets on AWS and never on moto. Yields the list of requests so treated."""
    lost: list[int] = []

    def send_then_lose(request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if lost or not matches(body):
            return None
        URLLib3Session().send(request)  # it reaches AWS and takes effect...
        lost.append(1)
        raise ReadTimeoutError(endpoint_url=request.url)  # ...and the answer never comes back

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, send_then_lose)
    try:
        yield lost
    finally:
        client.meta.events.unregister(event, send_then_lose)


def notices_to(address: str) -> list[str]:
    """Subjects of the plain emails (merchant notices) moto's SES took for ``address`` alone.

    The backend also holds raw coupon emails (their ``destinations`` is a list, and they have no
    ``subject``), so only simple messages are considered."""
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    simple = (m for m in sent if isinstance(getattr(m, "destinations", None), dict))
    return [str(m.subject) for m in simple if m.destinations.get("ToAddresses") == [address]]
