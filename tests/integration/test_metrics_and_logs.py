"""Business metrics (CloudWatch EMF lines on stdout) and the core package's structured logs."""

from __future__ import annotations

import json
import logging
from types import ModuleType
from typing import Any

import pytest
from couponflow import metrics
from couponflow.logs import structured_logger

from tests.integration.helpers import body_of, claim_event, drain_queue, merchant_event, sqs_event


def emf_lines(text: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines written: each names its metric under ``_aws``."""
    found = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" in document:
            found.append(document)
    return found


def metric(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [d for d in documents if d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == name]


def test_a_metric_names_its_namespace_dimensions_and_unit(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Couponflow/test-stack")
    metrics.reputation_rates("camp_1", bounce_rate=0.052, complaint_rate=0.0011)
    documents = emf_lines(capsys.readouterr().out)
    (bounce,) = metric(documents, "BounceRate")
    declared = bounce["_aws"]["CloudWatchMetrics"][0]
    assert declared["Namespace"] == "Couponflow/test-stack"
    assert declared["Dimensions"] == [["campaign"]]
    assert declared["Metrics"][0]["Unit"] == "Percent"
    assert bounce["campaign"] == "camp_1" and bounce["BounceRate"] == [pytest.approx(5.2)]
    (complaint,) = metric(documents, "ComplaintRate")
    assert complaint["ComplaintRate"] == [pytest.approx(0.11)]


def test_powertools_metrics_disabled_silences_every_metric(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.reputation_rates("camp_1", bounce_rate=0.052, complaint_rate=0.0011)
    metrics.message_moved("email", "delivered")
    assert emf_lines(capsys.readouterr().out) == []

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.claim_answered("claimed")
    assert len(metric(emf_lines(capsys.readouterr().out), "Claims")) == 1


def test_claims_are_counted_by_outcome(capsys, merchant, load_handler, lambda_context):
    api: ModuleType = load_handler("MerchantApiFunction")
    claim: ModuleType = load_handler("ClaimFunction")
    created = api.lambda_handler(
        merchant_event(merchant[0], "POST", "/campaigns", "/campaigns", {"name": "M", "codes": ["M-1"]}),
        lambda_context,
    )
    campaign_id = body_of(created)["campaign_id"]
    capsys.readouterr()

    def claim_as(email: str) -> None:
        response = claim.lambda_handler(
            claim_event(merchant[0], campaign_id, {"email": email}), lambda_context
        )
        assert response["statusCode"] in (200, 201), response["body"]

    claim_as("first@example.com")
    claim_as("first@example.com")
    claim_as("second@example.com")
    outcomes = [d["outcome"] for d in metric(emf_lines(capsys.readouterr().out), "Claims")]
    assert outcomes == ["claimed", "repeat", "pool_empty"]


def test_message_moves_are_counted_by_channel_and_status(
    capsys, stack, merchant, load_handler, lambda_context
):
    api: ModuleType = load_handler("MerchantApiFunction")
    claim: ModuleType = load_handler("ClaimFunction")
    created = api.lambda_handler(
        merchant_event(merchant[0], "POST", "/campaigns", "/campaigns", {"name": "N", "codes": ["N-1"]}),
        lambda_context,
    )
    campaign_id = body_of(created)["campaign_id"]
    drain_queue(stack.physical["ClaimMailQueue"])  # what earlier tests queued
    claim.lambda_handler(claim_event(merchant[0], campaign_id, {"email": "x@example.com"}), lambda_context)
    mailer: ModuleType = load_handler("MailerFunction")
    capsys.readouterr()
    for body in drain_queue(stack.physical["ClaimMailQueue"]):
        mailer.lambda_handler(sqs_event([json.dumps(body)]), lambda_context)
    moved = metric(emf_lines(capsys.readouterr().out), "Messages")
    assert [(d["channel"], d["status"], d["Messages"]) for d in moved] == [("email", "sent", [1.0])]


def test_core_modules_log_through_the_functions_structured_logger(capsys, monkeypatch):
    """Not by the accident of a service named like the package: any service name works."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "claim-function")
    structured_logger()
    logging.getLogger("couponflow.services.mailer").warning("lease lapsed", extra={"message_id": "msg_1"})
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "lease lapsed" in x]
    assert line["service"] == "claim-function"
    assert line["level"] == "WARNING" and line["message_id"] == "msg_1"
    assert line["location"].startswith("test_core_modules_log")
