"""Email-provider sync: the providers against local servers that speak their protocols, and the
whole path claim -> integration queue -> provider-sync function -> claim status, on moto's server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from couponflow.domain.integration_status import (
    IntegrationFailure,
    RetryLater,
    SyncOutcome,
)
from couponflow.providers import Contact
from couponflow.providers.mailchimp import MailchimpList
from couponflow.providers.webhook import SignedWebhook

from tests.conftest import load_event
from tests.fakes.providers import FakeMailchimp, WebhookReceiver
from tests.integration.helpers import (
    answer_lost_then_sent_again,
    body_of,
    claim_event,
    merchant_event,
    sqs_event,
)

API_KEY = "0123456789abcdef0123456789abcdef-us21"
LIST_ID = "a1b2c3d4e5"
WEBHOOK_SECRET = "whsec_0123456789abcdef"
RESOURCE = "/integrations/email-provider"


def contact(email: str, name: str | None = "Ann") -> Contact:
    return Contact(
        email=email,
        name=name,
        idempotency_key=f"key-{email}",
        merchant_id="m1",
        campaign_id="cmp_1",
        customer_id="cus_1",
    )


class Pushes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture()
def mailchimp() -> Iterator[FakeMailchimp]:
    with FakeMailchimp(API_KEY, LIST_ID) as server:
        yield server


@pytest.fixture()
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as server:
        yield server


def mailchimp_list(server: FakeMailchimp, *, double_opt_in: bool, api_key: str = API_KEY) -> MailchimpList:
    return MailchimpList(api_root=server.url, api_key=api_key, list_id=LIST_ID, double_opt_in=double_opt_in)


# ----------------------------------------------------------------------------------------------
# Mailchimp provider against the fake members endpoint
# ----------------------------------------------------------------------------------------------


def test_mailchimp_new_member_without_double_opt_in_is_subscribed_with_first_name(mailchimp):
    pushes = Pushes()
    answer = mailchimp_list(mailchimp, double_opt_in=False).subscribe(
        contact("New.Person@Example.com"), pushed_before=False, on_push=pushes
    )
    assert answer == SyncOutcome.received("subscribed")
    member = mailchimp.member(LIST_ID, "new.person@example.com")
    assert (
        member is not None and member["status"] == "subscribed" and member["merge_fields"] == {"FNAME": "Ann"}
    )
    put = mailchimp.writes()[0]
    assert put.method == "PUT" and put.body["status_if_new"] == "subscribed" and "status" not in put.body
    assert pushes.count == 1


def test_mailchimp_new_member_with_double_opt_in_is_pending_and_received(mailchimp):
    answer = mailchimp_list(mailchimp, double_opt_in=True).subscribe(
        contact("doi@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert answer == SyncOutcome.received("pending confirmation")
    assert mailchimp.member(LIST_ID, "doi@example.com")["status"] == "pending"  # type: ignore[index]


def test_mailchimp_existing_subscriber_is_already_subscribed_and_not_written(mailchimp):
    mailchimp.add_member(LIST_ID, "old@example.com", "subscribed")
    pushes = Pushes()
    answer = mailchimp_list(mailchimp, double_opt_in=True).subscribe(
        contact("old@example.com"), pushed_before=False, on_push=pushes
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.ALREADY_SUBSCRIBED
    assert mailchimp.writes() == [] and pushes.count == 0


def test_mailchimp_unsubscribed_member_is_declined_and_never_resubscribed(mailchimp):
    mailchimp.add_member(LIST_ID, "gone@example.com", "unsubscribed")
    answer = mailchimp_list(mailchimp, double_opt_in=False).subscribe(
        contact("gone@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.DOUBLE_OPT_IN_DECLINED
    assert mailchimp.writes() == []
    assert mailchimp.member(LIST_ID, "gone@example.com")["status"] == "unsubscribed"  # type: ignore[index]


def test_mailchimp_archived_member_is_moved_back_with_an_explicit_status(mailchimp):
    mailchimp.add_member(LIST_ID, "arch@example.com", "archived")
    answer = mailchimp_list(mailchimp, double_opt_in=True).subscribe(
        contact("arch@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert answer == SyncOutcome.received("pending confirmation")
    assert mailchimp.writes()[0].body["status"] == "pending"


def test_mailchimp_forgotten_contact_is_declined(mailchimp):
    mailchimp.forget(LIST_ID, "forgot@example.com")
    answer = mailchimp_list(mailchimp, double_opt_in=False).subscribe(
        contact("forgot@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.DOUBLE_OPT_IN_DECLINED


def test_mailchimp_server_error_is_retried_later(mailchimp):
    mailchimp.fail_next = [500]  # the member lookup fails
    answer = mailchimp_list(mailchimp, double_opt_in=False).subscribe(
        contact("busy@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, RetryLater) and answer.detail.startswith("500")


def test_mailchimp_wrong_api_key_is_a_provider_error(mailchimp):
    answer = mailchimp_list(mailchimp, double_opt_in=False, api_key="wrong-key-us21").subscribe(
        contact("x@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.PROVIDER_ERROR
    assert "401" in answer.detail


def test_mailchimp_unreachable_is_retried_later():
    unreachable = MailchimpList(
        api_root="http://127.0.0.1:9", api_key=API_KEY, list_id=LIST_ID, double_opt_in=False
    )
    answer = unreachable.subscribe(contact("x@example.com"), pushed_before=False, on_push=Pushes())
    assert isinstance(answer, RetryLater)


# ----------------------------------------------------------------------------------------------
# Signed webhook against a receiver that verifies the signature
# ----------------------------------------------------------------------------------------------


def test_webhook_is_signed_and_received(receiver):
    answer = SignedWebhook(receiver.url, WEBHOOK_SECRET).subscribe(
        contact("hook@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert answer == SyncOutcome.received("webhook answered 200")
    request = receiver.requests[0]
    assert request.body["email"] == "hook@example.com" and request.body["type"] == "subscriber.created"
    assert request.headers["Idempotency-Key"] == "key-hook@example.com"


def test_webhook_with_the_wrong_secret_is_refused_as_a_provider_error(receiver):
    answer = SignedWebhook(receiver.url, "not-the-shared-secret").subscribe(
        contact("hook@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.PROVIDER_ERROR
    assert receiver.accepted == {}


def test_webhook_409_for_a_known_address_is_already_subscribed(receiver):
    receiver.accepted["known@example.com"] = "someone-else"
    answer = SignedWebhook(receiver.url, WEBHOOK_SECRET).subscribe(
        contact("known@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.ALREADY_SUBSCRIBED


@pytest.mark.parametrize(("status", "retried"), [(503, True), (429, True), (422, False)])
def test_webhook_errors(receiver, status, retried):
    receiver.answer = status
    answer = SignedWebhook(receiver.url, WEBHOOK_SECRET).subscribe(
        contact("err@example.com"), pushed_before=False, on_push=Pushes()
    )
    assert isinstance(answer, RetryLater) is retried
    if not retried:
        assert isinstance(answer, SyncOutcome) and answer.reason is IntegrationFailure.PROVIDER_ERROR


# ----------------------------------------------------------------------------------------------
# The whole path through the handlers on moto's server
# ----------------------------------------------------------------------------------------------


@pytest.fixture()
def handlers(load_handler: Callable[[str], ModuleType]) -> dict[str, ModuleType]:
    return {
        name: load_handler(name) for name in ("MerchantApiFunction", "ClaimFunction", "ProviderSyncFunction")
    }


@pytest.fixture()
def api(handlers: dict[str, ModuleType], lambda_context: Any) -> Callable[..., dict[str, Any]]:
    def call(merchant_id: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
        resource = RESOURCE if path == RESOURCE else path
        if path.startswith("/customers/"):
            resource = "/customers/{customerRef}"
        event = merchant_event(merchant_id, method, resource, path, body)
        response: dict[str, Any] = handlers["MerchantApiFunction"].lambda_handler(event, lambda_context)
        return response

    return call


@pytest.fixture()
def claim(handlers: dict[str, ModuleType], lambda_context: Any) -> Callable[..., dict[str, Any]]:
    def call(merchant_id: str, campaign_id: str, body: Any) -> dict[str, Any]:
        response: dict[str, Any] = handlers["ClaimFunction"].lambda_handler(
            claim_event(merchant_id, campaign_id, body), lambda_context
        )
        return response

    return call


@pytest.fixture()
def campaign_of(api: Callable[..., dict[str, Any]]) -> Callable[[str, int], str]:
    def create(merchant_id: str, codes: int) -> str:
        body = {"name": "Sync sale", "codes": [f"SYNC-{i:04d}" for i in range(codes)]}
        response = api(merchant_id, "POST", "/campaigns", body)
        assert response["statusCode"] == 201, response["body"]
        return str(body_of(response)["campaign_id"])

    return create


def drain_integration_queue(stack: Any) -> list[str]:
    sqs = boto3.client("sqs")
    url = stack.physical["IntegrationQueue"]
    bodies: list[str] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def run_sync(
    handlers: dict[str, ModuleType], lambda_context: Any, bodies: list[str], receive_count: int = 1
) -> Any:
    event = sqs_event(bodies)
    for record in event["Records"]:
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return handlers["ProviderSyncFunction"].lambda_handler(event, lambda_context)


def claim_item(stack: Any, merchant_id: str, email: str, campaign_id: str) -> dict[str, Any]:
    from couponflow.adapters.dynamodb import Table
    from couponflow.ids import customer_id
    from couponflow.store import keys

    item = Table(stack.physical["CouponflowTable"]).get(
        keys.claim(merchant_id, customer_id(merchant_id, email), campaign_id)
    )
    assert item is not None
    return item


def connect_mailchimp(
    api: Callable[..., dict[str, Any]], merchant_id: str, server: FakeMailchimp, **extra: Any
) -> None:
    body = {"type": "mailchimp", "api_key": API_KEY, "base_url": server.url, "list_id": LIST_ID, **extra}
    response = api(merchant_id, "PUT", RESOURCE, body)
    assert response["statusCode"] == 200, response["body"]


def test_connecting_keeps_the_api_key_in_secrets_manager_and_shows_it_masked(
    stack, merchant, api, mailchimp, function_env
):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp, double_opt_in=False)

    shown = body_of(api(merchant_id, "GET", RESOURCE))
    assert shown["type"] == "mailchimp" and shown["list_id"] == LIST_ID and shown["double_opt_in"] is False
    assert shown["api_key"] == "****" + API_KEY[-4:]
    from couponflow.adapters.dynamodb import Table
    from couponflow.store import keys

    item = Table(stack.physical["CouponflowTable"]).get(keys.email_provider(merchant_id))
    assert item is not None and API_KEY not in json.dumps(item)
    prefix = function_env("MerchantApiFunction")["SECRET_NAME_PREFIX"]
    assert f":secret:{prefix}/merchants/{merchant_id}/email-provider" in item["secret_arn"]
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=item["secret_arn"])
    assert json.loads(secret["SecretString"]) == {"api_key": API_KEY}


def test_disconnecting_removes_the_connection_and_its_secret(stack, merchant, api, mailchimp):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)
    from couponflow.adapters.dynamodb import Table
    from couponflow.store import keys

    arn = Table(stack.physical["CouponflowTable"]).get(keys.email_provider(merchant_id))["secret_arn"]  # type: ignore[index]

    assert api(merchant_id, "DELETE", RESOURCE)["statusCode"] == 204
    assert api(merchant_id, "GET", RESOURCE)["statusCode"] == 404
    assert api(merchant_id, "DELETE", RESOURCE)["statusCode"] == 404
    with pytest.raises(boto3.client("secretsmanager").exceptions.ResourceNotFoundException):
        boto3.client("secretsmanager").get_secret_value(SecretId=arn)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "mailchimp", "api_key": "0123456789abcdef", "list_id": LIST_ID}, "server_prefix"),
        ({"type": "mailchimp", "api_key": API_KEY, "list_id": "bad list!"}, "list_id"),
        ({"type": "mailchimp", "api_key": API_KEY}, "list_id"),
        ({"type": "webhook", "url": "not a url", "secret": WEBHOOK_SECRET}, "url"),
        ({"type": "webhook", "url": "https://hooks.example.com/x", "secret": "short"}, "secret"),
        (
            {
                "type": "webhook",
                "url": "https://hooks.example.com/x",
                "secret": WEBHOOK_SECRET,
                "api_key": API_KEY,
            },
            "api_key",
        ),
        ({"type": "sendgrid", "api_key": API_KEY}, "type"),
        (
            {"type": "webhook", "url": "https://hooks.example.com/x", "secret": WEBHOOK_SECRET, "extra": 1},
            "extra",
        ),
    ],
)
def test_connecting_with_bad_settings_is_422_naming_the_field(merchant, api, body, field):
    response = api(merchant[0], "PUT", RESOURCE, body)
    assert response["statusCode"] == 422
    assert body_of(response)["field"] == field


def test_claim_with_consent_is_pushed_once_and_becomes_received(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context
):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp, double_opt_in=True)
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)

    email = "consent@example.com"
    response = claim(merchant_id, campaign_id, {"email": email, "name": "Cora", "marketing_consent": True})
    assert response["statusCode"] == 201
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "pending"
    jobs = drain_integration_queue(stack)
    assert [json.loads(j)["campaign_id"] for j in jobs] == [campaign_id]

    assert run_sync(handlers, lambda_context, jobs) == {"batchItemFailures": []}
    item = claim_item(stack, merchant_id, email, campaign_id)
    assert item["integration_status"] == "received" and "integration_reason" not in item
    assert mailchimp.member(LIST_ID, email) == {
        "id": mailchimp.member(LIST_ID, email)["id"],  # type: ignore[index]
        "email_address": email,
        "status": "pending",
        "merge_fields": {"FNAME": "Cora"},
    }

    # Redelivered job: no second push, status unchanged.
    writes = len(mailchimp.writes())
    assert run_sync(handlers, lambda_context, jobs, receive_count=2) == {"batchItemFailures": []}
    assert len(mailchimp.writes()) == writes
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "received"

    # The merchant sees it on the customers tab; a repeat claim queues nothing new.
    view = body_of(api(merchant_id, "GET", f"/customers/{email}"))
    assert [c["integration_status"] for c in view["claims"]] == ["received"]
    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 200
    assert drain_integration_queue(stack) == []


def test_claims_without_consent_or_without_a_provider_stay_blank(
    stack, merchant, api, claim, campaign_of, mailchimp
):
    merchant_id = merchant[0]
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)

    claim(merchant_id, campaign_id, {"email": "noprovider@example.com", "marketing_consent": True})
    assert "integration_status" not in claim_item(stack, merchant_id, "noprovider@example.com", campaign_id)

    connect_mailchimp(api, merchant_id, mailchimp)
    # The claim function remembers "no provider" for a while per warm container; a cold one asks.
    assert claim(merchant_id, campaign_id, {"email": "noconsent@example.com"})["statusCode"] == 201
    assert "integration_status" not in claim_item(stack, merchant_id, "noconsent@example.com", campaign_id)
    assert drain_integration_queue(stack) == []


def test_existing_and_unsubscribed_members_fail_with_their_reasons(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context
):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp, double_opt_in=False)
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)
    mailchimp.add_member(LIST_ID, "member@example.com", "subscribed")
    mailchimp.add_member(LIST_ID, "optout@example.com", "unsubscribed")

    for email in ("member@example.com", "optout@example.com"):
        claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})
    assert run_sync(handlers, lambda_context, drain_integration_queue(stack)) == {"batchItemFailures": []}

    member = claim_item(stack, merchant_id, "member@example.com", campaign_id)
    optout = claim_item(stack, merchant_id, "optout@example.com", campaign_id)
    assert (member["integration_status"], member["integration_reason"]) == ("failed", "already_subscribed")
    assert (optout["integration_status"], optout["integration_reason"]) == (
        "failed",
        "double_opt_in_declined",
    )
    assert mailchimp.writes() == []


def test_provider_errors_are_retried_through_the_queue_then_marked_failed(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context
):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)
    email = "flaky@example.com"
    claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})
    claim(merchant_id, campaign_id, {"email": "steady@example.com", "marketing_consent": True})
    from couponflow.ids import customer_id

    flaky_id = customer_id(merchant_id, email)
    jobs = drain_integration_queue(stack)
    flaky_job = next(j for j in jobs if json.loads(j)["customer_id"] == flaky_id)
    steady_job = next(j for j in jobs if json.loads(j)["customer_id"] != flaky_id)
    max_attempts = handlers["ProviderSyncFunction"].settings.max_attempts

    mailchimp.fail_next = [500]  # the first request (the flaky job's member lookup)
    event = sqs_event([flaky_job, steady_job])
    first = handlers["ProviderSyncFunction"].lambda_handler(event, lambda_context)
    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "pending"
    assert (
        claim_item(stack, merchant_id, "steady@example.com", campaign_id)["integration_status"] == "received"
    )

    mailchimp.fail_next = [500]
    with pytest.raises(BatchProcessingError):  # a batch of failures only: Lambda returns it all
        run_sync(handlers, lambda_context, [flaky_job], receive_count=2)
    jobs = [flaky_job]

    mailchimp.fail_next = [503]
    last = run_sync(handlers, lambda_context, jobs, receive_count=max_attempts)
    assert last == {"batchItemFailures": []}  # acknowledged: it will not reach the DLQ
    item = claim_item(stack, merchant_id, email, campaign_id)
    assert (item["integration_status"], item["integration_reason"]) == ("failed", "provider_error")
    assert f"gave up after {max_attempts} attempts" in item["integration_detail"]


def test_a_job_after_the_provider_was_disconnected_leaves_the_claim_blank(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context
):
    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)
    claim(merchant_id, campaign_id, {"email": "late@example.com", "marketing_consent": True})
    jobs = drain_integration_queue(stack)
    api(merchant_id, "DELETE", RESOURCE)

    assert run_sync(handlers, lambda_context, jobs) == {"batchItemFailures": []}
    assert "integration_status" not in claim_item(stack, merchant_id, "late@example.com", campaign_id)
    assert mailchimp.requests == []


def test_webhook_provider_end_to_end_through_the_handlers(
    stack, merchant, api, claim, campaign_of, receiver, handlers, lambda_context
):
    merchant_id = merchant[0]
    response = api(
        merchant_id,
        "PUT",
        RESOURCE,
        {"type": "webhook", "url": receiver.url + "/subscribers", "secret": WEBHOOK_SECRET},
    )
    assert response["statusCode"] == 200 and body_of(response)["secret"] == "****" + WEBHOOK_SECRET[-4:]
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)
    claim(merchant_id, campaign_id, {"email": "hooked@example.com", "name": "Hu", "marketing_consent": True})
    jobs = drain_integration_queue(stack)

    assert run_sync(handlers, lambda_context, jobs) == {"batchItemFailures": []}
    assert (
        claim_item(stack, merchant_id, "hooked@example.com", campaign_id)["integration_status"] == "received"
    )
    assert receiver.requests[0].path == "/subscribers"
    assert (
        receiver.requests[0].body["name"] == "Hu" and receiver.requests[0].body["campaign_id"] == campaign_id
    )


def test_a_malformed_job_or_one_naming_no_claim_fails_its_record_for_redrive_to_the_dlq(
    handlers, lambda_context
):
    sample = load_event("provider_sync/sync_job")  # a well-formed job for a claim that does not exist
    sample["Records"].append({**sample["Records"][0], "messageId": "m2", "body": '{"merchant_id": "m"}'})
    with pytest.raises(BatchProcessingError, match="2 individual errors"):
        handlers["ProviderSyncFunction"].lambda_handler(sample, lambda_context)


def test_the_claim_paths_provider_lookup_is_remembered_for_its_ttl_then_asked_again(
    stack, merchant, mailchimp
):
    from couponflow.adapters.dynamodb import Table
    from couponflow.models.integrations import EmailProviderIn
    from couponflow.services import email_provider, provider_directory

    table = Table(stack.physical["CouponflowTable"])
    now = [0.0]
    directory = provider_directory.ProviderDirectory(table, ttl_seconds=60, clock=lambda: now[0])
    merchant_id = merchant[0]
    assert directory.connected(merchant_id) is False

    request = EmailProviderIn(type="mailchimp", api_key=API_KEY, base_url=mailchimp.url, list_id=LIST_ID)
    email_provider.connect(table, "couponflow-test", merchant_id, request, allow_private_hosts=True)
    now[0] = 59.0
    assert directory.connected(merchant_id) is False  # remembered "no" within the TTL
    now[0] = 60.0
    assert directory.connected(merchant_id) is True  # asked again after it

    email_provider.disconnect(table, merchant_id)
    now[0] = 119.0
    assert directory.connected(merchant_id) is True  # a stale "yes": the sync job re-checks
    now[0] = 120.0
    assert directory.connected(merchant_id) is False


def test_a_sync_job_lost_at_queueing_is_queued_again_by_the_customers_retry(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context, monkeypatch
):
    from couponflow.adapters import sqs
    from couponflow.errors import RetryableError

    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)
    campaign_id = campaign_of(merchant_id, 3)
    drain_integration_queue(stack)
    integration_queue = stack.physical["IntegrationQueue"]
    real_send = sqs.send_json

    def integration_queue_down(queue_url: str, body: Any) -> str:
        if queue_url == integration_queue:
            raise RetryableError("could not queue message")
        return real_send(queue_url, body)

    email = "retry@example.com"
    monkeypatch.setattr(sqs, "send_json", integration_queue_down)
    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 503
    monkeypatch.setattr(sqs, "send_json", real_send)
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "pending"
    assert drain_integration_queue(stack) == []

    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 200
    jobs = drain_integration_queue(stack)
    assert len(jobs) == 1
    assert run_sync(handlers, lambda_context, jobs) == {"batchItemFailures": []}
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "received"


# ----------------------------------------------------------------------------------------------
# Hardening: merchant-set URLs may not reach internal hosts; no claim stays pending forever
# ----------------------------------------------------------------------------------------------


@pytest.fixture()
def strict_api(
    load_handler: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch, lambda_context: Any
) -> Callable[..., dict[str, Any]]:
    """The merchant API cold-started as deployed to AWS: AllowPrivateProviderHosts=false."""
    module = load_handler("MerchantApiFunction")
    monkeypatch.setenv("ALLOW_PRIVATE_PROVIDER_HOSTS", "false")
    import importlib

    module = importlib.reload(module)

    def call(merchant_id: str, body: Any) -> dict[str, Any]:
        event = merchant_event(merchant_id, "PUT", RESOURCE, RESOURCE, body)
        response: dict[str, Any] = module.lambda_handler(event, lambda_context)
        return response

    return call


@pytest.mark.parametrize(
    ("field", "url", "why"),
    [
        ("base_url", "http://api.example.com/3.0", "must use https"),
        ("base_url", "https://127.0.0.1:8443", "loopback"),
        ("base_url", "https://localhost/3.0", "loopback"),
        ("base_url", "https://169.254.169.254/latest/meta-data", "instance metadata"),
        ("base_url", "https://10.1.2.3", "private"),
        ("base_url", "https://[::ffff:192.168.0.7]/", "private"),
        ("url", "https://172.16.0.9/hooks", "private"),
        ("url", "https://[fe80::1]/hooks", "link-local"),
    ],
)
def test_a_provider_url_to_an_internal_host_or_without_https_is_400_naming_the_field(
    merchant, strict_api, field, url, why
):
    body = (
        {"type": "mailchimp", "api_key": API_KEY, "list_id": LIST_ID, "base_url": url}
        if field == "base_url"
        else {"type": "webhook", "url": url, "secret": WEBHOOK_SECRET}
    )
    response = strict_api(merchant[0], body)
    assert response["statusCode"] == 400, response["body"]
    assert body_of(response)["field"] == field and why in body_of(response)["message"]


def test_a_public_https_provider_url_is_accepted_when_private_hosts_are_not_allowed(merchant, strict_api):
    body = {"type": "mailchimp", "api_key": API_KEY, "list_id": LIST_ID, "base_url": "https://8.8.8.8/3.0"}
    response = strict_api(merchant[0], body)
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["base_url"] == "https://8.8.8.8/3.0"


def test_a_sync_to_a_stored_url_that_now_is_internal_fails_as_provider_error_without_calling_it(
    stack, merchant, api, claim, campaign_of, mailchimp
):
    from couponflow.adapters.dynamodb import Table
    from couponflow.services.provider_sync import ProviderSync, SyncJob

    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)  # allowed: the test stack allows private hosts
    campaign_id = campaign_of(merchant_id, 2)
    drain_integration_queue(stack)
    email = "inward@example.com"
    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 201
    [job] = [SyncJob.model_validate_json(j) for j in drain_integration_queue(stack)]

    strict = ProviderSync(Table(stack.physical["CouponflowTable"]), allow_private_hosts=False)
    assert strict.sync(job).startswith("failed provider_error")
    item = claim_item(stack, merchant_id, email, campaign_id)
    assert (item["integration_status"], item["integration_reason"]) == ("failed", "provider_error")
    assert (
        item["integration_detail"] == "provider URL refused: must use https"
    )  # the fake is http://127.0.0.1
    assert mailchimp.writes() == [] and mailchimp.member(LIST_ID, email) is None


def _pending_sweep(load_handler: Callable[[str], ModuleType]) -> Any:
    return load_handler("HousekeepingFunction").tasks["pending_syncs"]


def _watch(stack: Any, merchant_id: str, email: str, campaign_id: str) -> dict[str, Any] | None:
    from couponflow.adapters.dynamodb import Table
    from couponflow.ids import customer_id
    from couponflow.store import keys

    table = Table(stack.physical["CouponflowTable"])
    return table.get(keys.sync_watch(merchant_id, customer_id(merchant_id, email), campaign_id))


def test_a_sync_whose_job_was_lost_is_requeued_after_the_wait_and_settles_normally(
    stack, merchant, api, claim, campaign_of, mailchimp, handlers, lambda_context, load_handler
):
    from datetime import UTC, datetime, timedelta

    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp, double_opt_in=False)
    campaign_id = campaign_of(merchant_id, 2)
    drain_integration_queue(stack)
    email = "lost-job@example.com"
    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 201
    drain_integration_queue(stack)  # the job is lost
    assert _watch(stack, merchant_id, email, campaign_id) is not None

    sweep = _pending_sweep(load_handler)
    now = datetime.now(UTC)
    sweep(now + timedelta(minutes=5))  # not yet: within the 15 minutes
    assert drain_integration_queue(stack) == []
    sweep(now + timedelta(minutes=16))
    jobs = [j for j in drain_integration_queue(stack) if json.loads(j)["merchant_id"] == merchant_id]
    assert [json.loads(j)["campaign_id"] for j in jobs] == [campaign_id]
    sweep(now + timedelta(minutes=20))  # waits again from the re-queue
    assert [j for j in drain_integration_queue(stack) if json.loads(j)["merchant_id"] == merchant_id] == []

    assert run_sync(handlers, lambda_context, jobs) == {"batchItemFailures": []}
    assert claim_item(stack, merchant_id, email, campaign_id)["integration_status"] == "received"
    assert _watch(stack, merchant_id, email, campaign_id) is None  # settled: no longer watched
    sweep(now + timedelta(hours=2))
    assert [j for j in drain_integration_queue(stack) if json.loads(j)["merchant_id"] == merchant_id] == []


def test_a_sync_still_pending_after_the_last_requeue_is_marked_failed_provider_error(
    stack, merchant, api, claim, campaign_of, mailchimp, load_handler
):
    from datetime import UTC, datetime, timedelta

    merchant_id = merchant[0]
    connect_mailchimp(api, merchant_id, mailchimp)
    campaign_id = campaign_of(merchant_id, 2)
    email = "never-synced@example.com"
    assert claim(merchant_id, campaign_id, {"email": email, "marketing_consent": True})["statusCode"] == 201
    sweep = _pending_sweep(load_handler)
    now = datetime.now(UTC)
    requeues = 0
    for step in range(1, 6):  # every job is lost again; re-queued 3 times, then given up
        drain_integration_queue(stack)
        sweep(now + timedelta(minutes=16 * step))
        requeues += sum(json.loads(j)["merchant_id"] == merchant_id for j in drain_integration_queue(stack))
        if claim_item(stack, merchant_id, email, campaign_id)["integration_status"] != "pending":
            break
    item = claim_item(stack, merchant_id, email, campaign_id)
    assert requeues == 3
    assert (item["integration_status"], item["integration_reason"]) == ("failed", "provider_error")
    assert "still pending after 3 re-queues" in item["integration_detail"]
    assert _watch(stack, merchant_id, email, campaign_id) is None
    assert mailchimp.writes() == []


def test_connects_and_disconnects_racing_never_fail_and_never_leave_a_connection_without_its_secret(
    stack, merchant, mailchimp, function_env
):
    """Given connects and disconnects of one merchant at the same time (as separate Lambda
    containers run them: the services, concurrently), each succeeds or finds nothing to
    disconnect (404); afterwards a connection, if any, has its secret, and no other secret of the
    merchant is left behind."""
    from concurrent.futures import ThreadPoolExecutor

    from couponflow.adapters.dynamodb import Table
    from couponflow.errors import NotFoundError
    from couponflow.models.integrations import EmailProviderIn
    from couponflow.services import email_provider
    from couponflow.store import keys

    merchant_id = merchant[0]
    table = Table(stack.physical["CouponflowTable"])
    prefix = function_env("MerchantApiFunction")["SECRET_NAME_PREFIX"]
    request = EmailProviderIn(type="mailchimp", api_key=API_KEY, base_url=mailchimp.url, list_id=LIST_ID)
    secrets = boto3.client("secretsmanager")

    def run(kind: str) -> str:
        try:
            if kind == "connect":
                email_provider.connect(table, prefix, merchant_id, request, allow_private_hosts=True)
            else:
                email_provider.disconnect(table, merchant_id)
        except NotFoundError:
            return "404"
        return "ok"

    for burst in range(4):
        calls = ["connect", "disconnect", "connect", "disconnect", "connect"][burst % 2 :]
        with ThreadPoolExecutor(len(calls)) as pool:
            answers = list(pool.map(run, calls))  # any other error fails the test
        assert set(answers) <= {"ok", "404"}, answers
        item = table.get(keys.email_provider(merchant_id))
        left = [
            s["ARN"]
            for s in secrets.list_secrets(
                Filters=[{"Key": "name", "Values": [f"{prefix}/merchants/{merchant_id}/"]}]
            )["SecretList"]
        ]
        if item is None:
            assert left == [], burst
        else:
            assert left == [item["secret_arn"]], burst
            secrets.get_secret_value(SecretId=item["secret_arn"])


def test_a_requeue_count_whose_answer_was_lost_is_counted_when_botocore_sends_it_again(stack, merchant):
    """Given housekeeping's count of a sync's re-queue that DynamoDB made but whose answer was
    lost, so botocore sent it again, then the retry reads as counted and the sync is queued now
    (read as another run's, it would wait a round unqueued); a stale count is refused."""
    from couponflow.adapters import dynamodb
    from couponflow.adapters.dynamodb import Table
    from couponflow.store import integrations, keys

    table = Table(stack.physical["CouponflowTable"])
    m = merchant[0]
    integrations.watch_sync(table, m, "cus_requeue", "cmp_requeue", since="2026-12-04T06:00:00+00:00")
    watch = table.get(keys.sync_watch(m, "cus_requeue", "cmp_requeue"))
    assert watch is not None

    def counts_a_requeue(body: str) -> bool:
        return "requeues" in body

    with answer_lost_then_sent_again(dynamodb.client(), "UpdateItem", counts_a_requeue) as lost:
        assert integrations.requeued(table, watch, at="2026-12-04T06:10:00.000001+00:00") is True
    assert lost == [1]
    assert integrations.requeued(table, watch, at="2026-12-04T06:20:00.000001+00:00") is False
