"""The merchant console in a real headless Chromium, on the local stack as `make run` starts it:
sign in (a wrong key says so), create a campaign, claim from its page as a storefront would,
watch the email reach `delivered` on the customer's page, open the (i) panel with the server's
words, switch the global unsubscribe, add to a list, find the customer by an email prefix,
open the email in the local outbox and follow its coupon link (the campaign's Status then says
`coupon viewed`); schedule a send and cancel it; the settings page; set a notice webhook, see its
secret once and send it a test notice. axe-core finds no serious
accessibility violation on any page; screenshots are saved under build/screenshots/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Chromium
from tests.e2e.conftest import Call, Running
from tests.fakes.providers import NoticeReceiver, signed_with

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "build" / "axe" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("console-profile"))
    yield chromium
    chromium.close()


def console_url(local: Running) -> str:
    return local.api_url.rsplit("/", 1)[0] + "/console/"


def go(browser: Chromium, route: str) -> None:
    browser.evaluate(f"location.hash = {json.dumps(route)}")


def fill_and_submit(browser: Chromium, form: str, values: dict[str, str]) -> None:
    script = f"""(() => {{
        const form = document.querySelector({json.dumps(form)});
        for (const [name, value] of Object.entries({json.dumps(values)})) form.elements[name].value = value;
        form.requestSubmit();
    }})()"""
    browser.evaluate(script)


def serious_violations(browser: Chromium) -> list[dict[str, Any]]:
    assert AXE.is_file(), "axe-core is missing: make test fetches it (make browser)"
    if not browser.evaluate("typeof axe !== 'undefined'"):
        browser.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = browser.evaluate_async(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.html).slice(0, 3)})))"
    )
    return found


def test_a_merchant_signs_in_and_follows_a_claim_to_delivered_with_the_servers_words(
    browser: Chromium, local: Running, http: Call
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.open(console_url(local))
    browser.wait_until("!!document.querySelector('input[name=key]')", "the sign-in form")
    assert serious_violations(browser) == []
    # Signed out: no navigation to pages that need a key, and nothing but the form's own words
    assert browser.evaluate("getComputedStyle(document.getElementById('nav')).display") == "none"
    assert "null" not in browser.evaluate("document.querySelector('main').innerText")

    fill_and_submit(browser, "form", {"key": "cf_not_a_key_of_anyone_0000000000000"})
    words = browser.wait_until(
        "document.querySelector('[role=alert]')?.textContent", "the wrong key's message"
    )
    assert "not recognised" in words

    fill_and_submit(browser, "form", {"key": local.api_key})
    browser.wait_until("document.querySelector('h1')?.textContent === 'Campaigns'", "the campaigns page")
    fill_and_submit(browser, "main form", {"name": "Console sale", "codes": "CONS-0001 CONS-0002"})
    browser.wait_until(
        "document.querySelector('h1')?.textContent === 'Console sale'", "the new campaign's page"
    )
    campaign_id = browser.evaluate("location.hash.split('/')[2]")
    assert serious_violations(browser) == []

    email = "success+console@simulator.amazonses.com"
    fill_and_submit(browser, "#try-claim", {"email": email})  # as a storefront would, from the page
    browser.wait_until(
        f"document.querySelector('h1')?.textContent === {json.dumps(email)}", "the customer's page"
    )
    browser.wait_until(  # the page follows the email until SES's events settle it
        "[...document.querySelectorAll('main .status')].some(s => s.textContent === 'delivered')",
        "the email's delivery",
    )
    customer_id = browser.evaluate("decodeURIComponent(location.hash.split('/')[2])")
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "customer-profile.png")

    browser.evaluate("document.querySelector('main td button').click()")
    summary = browser.wait_until(
        "[...document.querySelectorAll('dialog .summary')].map(s => s.textContent).join('\\n')",
        "the timeline panel",
    )
    assert 'Delivered: the receiving server answered "250' in summary
    verbatim = browser.evaluate("[...document.querySelectorAll('dialog pre')].map(p => p.textContent).join()")
    assert '"smtp_response": "250' in verbatim  # the server's words as SES reported them
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "message-timeline.png")
    browser.evaluate("document.querySelector('dialog').close()")

    switch = "document.getElementById('unsubscribe-switch')"
    browser.evaluate(f"{switch}.click()")  # the global unsubscribe switch, on ...
    browser.wait_until(f"{switch}?.getAttribute('aria-checked') === 'true'", "the unsubscribe")
    browser.evaluate(f"{switch}.click()")  # ... and off again
    browser.wait_until(f"{switch}?.getAttribute('aria-checked') === 'false'", "the resubscribe")
    status, segment = http("POST", "/segments", {"name": "Console VIPs"})
    assert status == 201, segment
    browser.evaluate("location.reload()")
    browser.wait_until("!!document.querySelector('#add-to-list option')", "the lists to add to")
    fill_and_submit(browser, "#add-to-list", {"segment": segment["segment_id"]})
    browser.wait_until(
        "document.querySelector('main').textContent.includes('Lists: Console VIPs')", "the list"
    )

    go(browser, "#/customers?q=SUCCESS%2BCONS")  # found by an email prefix, any case
    browser.wait_until(
        f"[...document.querySelectorAll('main td a')].some(a => a.textContent === {json.dumps(email)})",
        "the customer in the customers tab",
    )
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "customers.png")
    assert customer_id.startswith("cus_")
    browser.evaluate(  # the tab as CSV, in its filters: the file the button hands the browser
        """(() => {
            window.__csv = null;
            HTMLAnchorElement.prototype.click = function () {
                fetch(this.href).then((r) => r.text()).then((t) => { window.__csv = t; });
            };
            const buttons = [...document.querySelectorAll('main button')];
            buttons.find((b) => b.textContent === 'Download CSV').click();
        })()"""
    )
    exported = browser.wait_until("window.__csv", "the customers CSV")
    assert exported.startswith("customer_id,email,") and email in exported and exported.count("\n") == 2

    go(browser, "#/outbox")  # what the local SES accepted: the email opens with its links working
    browser.wait_until("document.querySelector('h1')?.textContent.startsWith('Outbox')", "the outbox page")
    row_of = f"a => a.href.includes('/outbox/') && a.closest('tr').textContent.includes({json.dumps(email)})"
    opened = f"[...document.querySelectorAll('main td a')].find({row_of})"
    page = browser.wait_until(f"{opened}?.href", "the email in the outbox")
    assert serious_violations(browser) == []
    browser.visit(page)
    coupon = browser.wait_until(
        "[...document.querySelectorAll('a')].find(a => a.href.includes('/coupons/'))?.href", "the coupon link"
    )
    browser.visit(coupon)
    shown = browser.wait_until("document.body.textContent", "the coupon page")
    assert "CONS-0001" in shown or "CONS-0002" in shown  # the code the claim was given, either of the pool
    browser.visit(console_url(local))

    go(browser, f"#/campaigns/{campaign_id}")
    browser.wait_until(
        "[...document.querySelectorAll('main .status')].some(s => s.textContent === 'coupon viewed')",
        "the campaign's customers with their Status",
    )
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "campaign.png")
    browser.screenshot(SHOTS / "campaign-phone.png", width=390, height=844)
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    funnel = browser.evaluate("document.querySelector('.funnel').getAttribute('aria-label')")
    assert "Claimed 1" in funnel and "Coupon viewed 1" in funnel, funnel

    # A CSV of codes goes straight to S3 (CORS on the import bucket), its progress shown to done.
    browser.evaluate(
        """(() => {
            const files = new DataTransfer();
            const csv = 'CONS-0101\\nCONS-0102\\nCONS-0103\\n';
            files.items.add(new File([csv], 'codes.csv', {type: 'text/csv'}));
            document.querySelector('#code-import input[type=file]').files = files.files;
            document.querySelector('#code-import').requestSubmit();
        })()"""
    )
    state = browser.wait_until(
        "document.getElementById('import-state')?.textContent.endsWith('Done.') "
        "&& document.getElementById('import-state').textContent",
        "the code import",
    )
    assert "3 imported, 0 duplicate, 0 invalid" in state
    assert browser.evaluate("document.getElementById('import-progress').value") == 1
    go(browser, "#/campaigns")  # the list shows what is left: 2 loaded, 1 claimed, 3 imported
    browser.wait_until(
        "[...document.querySelectorAll('main tr')].some(r => r.textContent.includes('Console sale')"
        " && r.children[2].textContent === '4')",
        "the campaign's codes left in the list",
    )
    assert serious_violations(browser) == []


def test_a_merchant_schedules_a_send_on_the_hour_sees_its_preflight_and_cancels_it(
    browser: Chromium, local: Running, http: Call
) -> None:
    status, segment = http("POST", "/segments", {"name": "Console list"})
    assert status == 201, segment
    status, campaign = http("POST", "/campaigns", {"name": "Console send", "codes": ["CSND-0001"]})
    assert status == 201, campaign
    browser.open(console_url(local))
    browser.evaluate(f"sessionStorage.setItem('couponflow.key', {json.dumps(local.api_key)})")
    go(browser, "#/sends")
    browser.wait_until("!!document.querySelector('#schedule')", "the schedule form")
    offered = browser.evaluate(
        "[...document.querySelectorAll('#schedule select[name=send_at] option')].map(o => o.value)"
    )
    assert offered and all(v.endswith(":00:00") for v in offered)  # only times on the hour
    assert serious_violations(browser) == []
    browser.evaluate(
        f"""(() => {{
            const form = document.querySelector('#schedule');
            form.elements.segment_id.value = {json.dumps(segment["segment_id"])};
            form.elements.campaign_id.value = {json.dumps(campaign["campaign_id"])};
            form.requestSubmit();
        }})()"""
    )
    check = browser.wait_until(
        "document.getElementById('schedule-check')?.textContent", "the check before confirming"
    )
    assert "members would get it" in check and "Confirm: schedule for" in check
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "send-check.png")
    browser.evaluate("document.getElementById('confirm-schedule').click()")
    browser.wait_until("document.querySelector('h1')?.textContent.startsWith('Send snd_')", "the send's page")
    browser.wait_until("document.querySelector('main .status')?.textContent === 'scheduled'", "its status")
    assert "codes_available" in browser.wait_until(
        "document.querySelector('main pre')?.textContent", "preflight"
    )
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "send.png")
    browser.evaluate(
        "[...document.querySelectorAll('main button')].find(b => b.textContent === 'Cancel send').click()"
    )
    browser.wait_until("document.querySelector('main .status')?.textContent === 'canceled'", "the cancel")

    go(browser, "#/settings")  # the provider connection's state, in words; connect and disconnect
    words = browser.wait_until("document.getElementById('provider')?.textContent", "the provider's state")
    assert "No email provider is connected" in words
    assert serious_violations(browser) == []
    browser.evaluate(
        """(() => {
            const form = document.querySelector('#connect-provider');
            form.elements.type.value = 'webhook';
            form.elements.type.dispatchEvent(new Event('change'));
            form.elements.url.value = 'https://hooks.example.com/couponflow';
            form.elements.secret.value = 'short';
            form.requestSubmit();
        })()"""
    )
    refused = browser.wait_until(
        "document.querySelector('#connect-provider [role=alert]')?.textContent", "the refusal"
    )
    assert "(secret)" in refused  # the API's words, next to the form that caused them
    fill_and_submit(browser, "#connect-provider", {"secret": "a-signing-secret-of-32-characters"})
    connected = browser.wait_until(
        "document.querySelector('#provider .status')?.textContent === 'connected' "
        "&& document.getElementById('provider').textContent",
        "the connection",
    )
    assert "webhook, https://hooks.example.com/couponflow" in connected
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "settings.png")
    browser.evaluate(
        "[...document.querySelectorAll('#provider button')].find(b => b.textContent === 'Disconnect').click()"
    )
    browser.wait_until("!!document.querySelector('#connect-provider')", "the disconnect")


@pytest.fixture()
def notice_receiver() -> Iterator[NoticeReceiver]:
    """A merchant's endpoint on 127.0.0.1 (the local stack allows private hosts)."""
    with NoticeReceiver() as receiver:
        yield receiver


def test_a_merchant_sets_a_notice_webhook_sees_its_secret_once_and_sends_a_test_notice(
    browser: Chromium, local: Running, notice_receiver: NoticeReceiver
) -> None:
    url = notice_receiver.notices_url
    browser.open(console_url(local))
    browser.evaluate(f"sessionStorage.setItem('couponflow.key', {json.dumps(local.api_key)})")
    go(browser, "#/settings")
    browser.wait_until("!!document.querySelector('#set-notice-webhook')", "the webhook form")

    fill_and_submit(browser, "#set-notice-webhook", {"url": url})

    # The secret, once, beside the webhook's state in words
    secret = browser.wait_until(
        "document.querySelector('#notice-webhook .secret code')?.textContent", "the secret"
    )
    assert secret.startswith("whsec_")
    words = browser.evaluate("document.getElementById('notice-webhook').textContent")
    assert f"Notices are posted to {url}, signed with the secret ending in {secret[-4:]}" in words
    assert serious_violations(browser) == []
    browser.screenshot(SHOTS / "notice-webhook.png")

    browser.evaluate(
        "[...document.querySelectorAll('#notice-webhook button')]"
        ".find(b => b.textContent === 'Send a test notice').click()"
    )
    shown = browser.wait_until(
        "document.querySelector('#notice-webhook [role=status] .status')?.textContent", "the test's result"
    )
    assert shown == "delivered (HTTP 200)"
    (post,) = notice_receiver.writes()  # the ping, signed with the secret the console showed
    assert signed_with(secret, post) and post.body["type"] == "ping"

    go(browser, "#/campaigns")  # leaving the page, and coming back: the secret is not shown again
    browser.wait_until("!document.getElementById('notice-webhook')", "the campaigns page")
    go(browser, "#/settings")
    browser.wait_until(
        "document.getElementById('notice-webhook')?.textContent.includes('ending in')", "the state"
    )
    assert browser.evaluate("document.querySelector('#notice-webhook .secret')") is None
    browser.evaluate(
        "[...document.querySelectorAll('#notice-webhook button')]"
        ".find(b => b.textContent === 'Remove').click()"
    )
    browser.wait_until("!!document.querySelector('#set-notice-webhook')", "the removal")
