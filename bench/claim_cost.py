"""What a storefront claim costs on AWS: claims over the local stack's API, each with its coupon
email handed to SES and SES's events applied, metered as the send bench meters a send.

The stack runs in this process with DynamoDB in its moto, so every request the functions make is
counted and priced from the items it touched (``bench/sends.ApiMeter``), and every function's
invocations and local durations (an upper bound of Lambda's) are summed; the claims come from a
few concurrent storefront clients through the API's gateway. The bench's own reads (how many
emails are delivered yet) are signed with a key the meter leaves out.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from couponflow.adapters.dynamodb import deserialize
from couponflow.store import keys
from local_stack import LocalStack, moto_patches

from bench.sends import (
    DYNAMODB_PER_RRU,
    DYNAMODB_PER_WRU,
    LAMBDA_PER_GB_SECOND_ARM,
    LAMBDA_PER_REQUEST,
    ROOT,
    SES_PER_EMAIL,
    SNS_PER_PUBLISH,
    SQS_PER_REQUEST,
    ApiMeter,
    LambdaMeter,
    api_call,
    import_csv,
    print_usage,
    ses_send_rate,
    unmetered_dynamodb,
)

API_GATEWAY_PER_REQUEST = 3.50 / 1e6  # REST API, the first 333 million requests a month
CLIENTS = 8
DELIVERED_WITHIN_S = 600.0  # generous: a loaded machine's local stack is slow, never wrong


def bench_claim_cost(claims: int, send_rate: float = 100.0) -> None:
    """``claims`` claims of one campaign by as many customers, each emailed; ``send_rate``: the
    SES MaxSendRate the local SES answers (the claims' emails are paced under it)."""
    with ses_send_rate(send_rate):
        _bench_claim_cost(claims)


def _bench_claim_cost(claims: int) -> None:
    with LocalStack(
        ROOT / "template.yaml", retry_delay=0.2, log_stream=None, dynamodb_process=False
    ) as stack:
        assert stack.moto is not None
        meter = ApiMeter(stack.moto.middleware.app, stack.region)
        stack.moto.middleware.app = meter
        meter.count_publishes_of(stack.simulator)
        lambdas = LambdaMeter(stack)
        campaign = api_call(stack, "POST", "/campaigns", {"name": "Bench claims"})["campaign_id"]
        import_csv(
            stack,
            f"/campaigns/{campaign}/code-imports",
            None,
            "\n".join(f"BC-{i:07d}" for i in range(claims)),
        )
        delivered = _delivered_counter(stack, campaign)

        meter.reset()
        lambdas.reset()
        started = time.monotonic()
        path = f"/public/merchants/{stack.merchant_id}/campaigns/{campaign}/claims"
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(lambda i: _claim(stack.api_url + path, i), range(claims)))
        claimed = time.monotonic() - started
        while (done := delivered()) < claims and time.monotonic() - started < DELIVERED_WITHIN_S:
            time.sleep(1)
        elapsed = time.monotonic() - started
        lambdas.stop()
    _report(claims, answers, done, claimed, elapsed, meter, lambdas)


def _claim(url: str, i: int) -> int:
    """One storefront claim; its HTTP status (0: no answer)."""
    body = {"email": f"success+c{i}@simulator.amazonses.com", "name": f"Customer {i}"}
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _delivered_counter(stack: LocalStack, campaign: str) -> Any:
    """How many of the campaign's emails are delivered, from its counters, read unmetered."""
    reader = unmetered_dynamodb(stack)
    table, merchant = stack.resources["CouponflowTable"], str(stack.merchant_id)
    shards = [keys.campaign_stats_shard(merchant, campaign, s) for s in range(keys.STATS_SHARDS)]

    def delivered() -> int:
        found = reader.batch_get_item(
            RequestItems={table: {"Keys": [{k: {"S": v} for k, v in key.items()} for key in shards]}}
        )["Responses"].get(table, [])
        return sum(int(deserialize(item).get("delivered", 0)) for item in found)

    return delivered


def _report(
    n: int,
    answers: list[int],
    delivered: int,
    claimed: float,
    elapsed: float,
    meter: ApiMeter,
    lambdas: LambdaMeter,
) -> None:
    by_status = {status: answers.count(status) for status in sorted(set(answers))}
    print(
        f"storefront claims on the local stack, {CLIENTS} clients: {n} claims answered {by_status} in "
        f"{claimed:.1f} s; {delivered} emails delivered after {elapsed:.1f} s "
        f"(SES MaxSendRate {moto_patches.SEND_QUOTA['MaxSendRate']:g}/s)"
    )
    invocations, gb_s = print_usage(n, "claims", meter, lambdas)
    calls = meter.by_service()
    million = 1e6 / n
    parts = {
        "API Gateway (REST)": n * API_GATEWAY_PER_REQUEST,
        "Lambda": invocations * LAMBDA_PER_REQUEST + gb_s * LAMBDA_PER_GB_SECOND_ARM,
        "DynamoDB on-demand": meter.write_units * DYNAMODB_PER_WRU + meter.read_units * DYNAMODB_PER_RRU,
        "SQS": calls["sqs"] * SQS_PER_REQUEST,
        "SNS (SES events)": calls["sns"] * SNS_PER_PUBLISH,
    }
    ses = n * SES_PER_EMAIL
    print("  cost per million claims, each emailed (USD, us-east-1 public prices):")
    for name, dollars in parts.items():
        print(f"    {name:20} ${dollars * million:8.2f}")
    ours = sum(parts.values()) * million
    print(
        f"    {'everything but SES':20} ${ours:8.2f}  + SES ${ses * million:.2f} = "
        f"${ours + ses * million:.2f} (${(ours + ses * million) / 1000:.4f} a thousand claims)"
    )
