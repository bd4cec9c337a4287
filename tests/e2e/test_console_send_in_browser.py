"""A segment send followed in the console to `done`, in headless Chromium: scheduled from the
page's form, the clock moved past its time, the tracker showing each recipient's status and
send issue, and the failure report downloaded from the page's link.

This module starts its own in-process stack (as ``test_segment_send`` does): the send is set 2
hours ahead by the real clock before the clock jumps to fire it.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from couponflow.store import keys
from local_stack import LocalStack

from tests.e2e.browser import WAIT_SECONDS, Chromium
from tests.e2e.conftest import Call, in_process_stack, seed_table, stack_http
from tests.e2e.test_console_in_browser import SHOTS, go, serious_violations

pytestmark = pytest.mark.e2e
SIM = "simulator.amazonses.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    with in_process_stack(
        tmp_path_factory.mktemp("console-send"), "couponflow-e2e-console", pytestconfig
    ) as up:
        yield up


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("console-send-profile"))
    yield chromium
    chromium.close()


def ok(answer: tuple[int, Any], status: int = 200) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def test_a_send_scheduled_in_the_console_is_followed_to_done_and_its_report_downloaded(
    stack: LocalStack, browser: Chromium
) -> None:
    http: Call = stack_http(stack)
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    ids = [
        ok(http("POST", "/customers", {"email": email, "last_interaction_at": recent}))["customer_id"]
        for email in (f"success+tracked@{SIM}", f"bounce+tracked@{SIM}")
    ]
    segment = ok(http("POST", "/segments", {"name": "Tracked"}), 201)["segment_id"]
    ok(http("POST", f"/segments/{segment}/members", {"customers": ids}))
    campaign = ok(http("POST", "/campaigns", {"name": "Tracked sale", "codes": ["TRK-01", "TRK-02"]}), 201)

    browser.open(stack.console_url)
    browser.evaluate(f"sessionStorage.setItem('couponflow.key', {json.dumps(stack.api_key)})")
    go(browser, "#/sends")
    browser.wait_until("!!document.querySelector('#schedule')", "the schedule form")
    browser.evaluate(
        f"""(() => {{
            const form = document.querySelector('#schedule');
            form.elements.segment_id.value = {json.dumps(segment)};
            form.elements.campaign_id.value = {json.dumps(campaign["campaign_id"])};
            form.requestSubmit();
        }})()"""
    )
    check = browser.wait_until(  # or the API's refusal, which the assertion below then shows
        "document.getElementById('schedule-check')?.textContent"
        " || document.querySelector('#schedule .error')?.textContent",
        "the check before confirming",
    )
    assert "members would get it" in check and "Confirm: schedule for" in check
    browser.evaluate("document.getElementById('confirm-schedule').click()")
    browser.wait_until("document.querySelector('h1')?.textContent.startsWith('Send snd_')", "the send's page")
    send_id = browser.evaluate("decodeURIComponent(location.hash.split('/')[2].split('?')[0])")
    send_at = datetime.fromisoformat(ok(http("GET", f"/sends/{send_id}"))["send_at"])

    stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1  # the scheduler fires it
    deadline = time.monotonic() + 5 * WAIT_SECONDS  # a liveness bound for a loaded machine
    ticks = 0
    while True:
        ticks += 1
        if ticks % 10 == 0:  # the rate schedule runs every 5 minutes: tick housekeeping now and then
            stack.invoke("HousekeepingFunction", {})
        go(browser, f"#/sends/{send_id}?seen={ticks}")
        if browser.wait_until(
            "document.querySelector('main dl .status')?.textContent || ''", "the send's status"
        ).startswith("done"):
            break
        assert time.monotonic() < deadline, "the send did not finish"
        time.sleep(1)

    rows = browser.wait_until(
        "[...document.querySelectorAll('main tbody tr')].map(r => [...r.cells].map(c => c.textContent))",
        "the tracker's rows",
    )
    by_recipient = {row[0]: (row[1], row[2]) for row in rows}
    assert by_recipient[f"success+tracked@{SIM}"] == ("sent", "—")
    assert by_recipient[f"bounce+tracked@{SIM}"] == ("failed", "bounced")
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "send-tracker.png")

    go(browser, f"#/sends/{send_id}?status=failed")  # the tracker's filter, in the URL
    browser.wait_until(
        "[...document.querySelectorAll('main tbody tr')].length === 1", "the tracker filtered to failed"
    )
    report = browser.evaluate(
        "[...document.querySelectorAll('main a')].find(a => a.textContent.includes('report'))?.href"
    )
    assert report and report.startswith(stack.api_url + "/public/reports/")
    with urllib.request.urlopen(report, timeout=60) as download:  # 302 to the CSV, followed
        text = download.read().decode()
    assert "customer_id,email,phone,reason" in text and f"bounce+tracked@{SIM}" in text and "bounced" in text


def test_a_large_send_being_counted_shows_how_far_its_finish_has_got(
    stack: LocalStack, browser: Chromium, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a send whose finish has counted 187,300 of its million recipients: its tally as
    # housekeeping keeps it between runs (the count itself: tests/integration/test_sends.py)
    merchant = stack.merchant_id
    assert merchant is not None
    send = {
        **keys.send(merchant, "snd_counting"),
        "type": "send",
        "send_id": "snd_counting",
        "merchant_id": merchant,
        "segment_id": "seg_everyone",
        "campaign_id": "cmp_big",
        "channel": "email",
        "status": "sending",
        "send_at": "2026-12-03T20:00:00+00:00",
        "created_at": "2026-12-03T17:00:00+00:00",
        "members": 1_000_000,
        "tally": {"shard": 3, "after": "x", "counts": {"recipients": 187_300}, "parts": [], "step": 4},
    }
    seed_table(stack, [send], monkeypatch)
    # When the merchant opens it in the console
    browser.open(stack.console_url)
    browser.evaluate(f"sessionStorage.setItem('couponflow.key', {json.dumps(stack.api_key)})")
    go(browser, "#/sends/snd_counting")
    shown = browser.wait_until(
        "document.querySelector('h1')?.textContent === 'Send snd_counting'"
        " && document.querySelector('main dl')?.innerText",
        "the send's facts",
    )
    # Then it says how far the count has got, in the browser's own number format
    expected = browser.evaluate(
        "`${(187300).toLocaleString()} of ${(1000000).toLocaleString()} recipients counted`"
    )
    assert "Finishing" in shown and expected in shown
