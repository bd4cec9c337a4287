"""Drills at 10% faults, small: claims, a segment send and SES events on the local stack while the
functions' AWS calls throttle, conflict, fail and lose their answers (``local_stack.faults``).

Each asserts what ``make drill`` prints at full size: no code lost or held twice, no email handed
to SES twice, nothing stuck, counts that add up, every claimer answered; and that faults were
actually injected. The dead-letter depth before the operator's redrive is not asserted (a record
may legitimately wait there: that is what the redrive is for).
"""

from __future__ import annotations

import pytest
from local_stack.drill import Findings, drill_claims, drill_send, drill_ses_events, drill_stack

pytestmark = pytest.mark.e2e
RATE = 0.1


def _assert_clean(findings: Findings) -> None:
    assert findings.faults > 0, "no fault was injected: the drill proves nothing"
    assert findings.clean, "\n".join([findings.row(), *findings.notes])


def test_claims_under_faults_lose_no_code_hold_none_twice_and_send_each_email_once(tmp_path) -> None:
    with drill_stack(RATE, seed=11, workdir=tmp_path) as drill:
        _assert_clean(drill_claims(drill, RATE, claimers=45, codes=30))


def test_a_segment_send_under_faults_ends_done_with_counts_that_add_up(tmp_path) -> None:
    with drill_stack(RATE, seed=12, workdir=tmp_path) as drill:
        _assert_clean(drill_send(drill, RATE, recipients=40))


def test_ses_events_under_faults_leave_every_message_in_the_status_its_events_imply(tmp_path) -> None:
    with drill_stack(RATE, seed=13, workdir=tmp_path) as drill:
        _assert_clean(drill_ses_events(drill, RATE, messages=35))
