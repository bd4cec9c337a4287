"""Key design of the Couponflow table: every partition key starts with the merchant.

Main table (``pk``/``sk``, plus ``gsi1pk``/``gsi1sk``); ``<m>`` is the merchant id:

- merchant profile: ``M#<m>`` / ``PROFILE``
- API key (hashed): ``M#<m>`` / ``APIKEY#<sha256>``
- email-provider connection (secrets in Secrets Manager): ``M#<m>`` / ``INTEGRATION#EMAIL_PROVIDER``
- campaign: ``M#<m>#CAMPAIGN#<c>`` / ``CAMPAIGN``; gsi1 ``M#<m>#CAMPAIGNS`` / created_at
- code registry: ``M#<m>#CAMPAIGN#<c>#CODE#<code>`` / ``CODE``
- available code: ``M#<m>#CAMPAIGN#<c>#POOL#<shard>`` / ``CODE#<code>``
- codes available in one pool shard (a counter moved in the same transaction as the codes):
  ``M#<m>#CAMPAIGN#<c>#POOLCOUNT#<shard>`` / ``COUNT``; the pool's size is the sum of the shards'
- daily claim count: ``M#<m>#CAMPAIGN#<c>#DAY#<local date>`` / ``COUNT`` (only with a daily limit)
- claim receipt: ``M#<m>#CAMPAIGN#<c>#RECEIPT#<sha256 of the Idempotency-Key>`` / ``RECEIPT``, the
  answer a claim sent with the header got, written in the claim's own transaction (TTL 24 h)
- code import or generation job: ``M#<m>#CAMPAIGN#<c>#IMPORT#<job>`` / ``IMPORT``
- page view without an email (``page_viewed``): ``M#<m>#CAMPAIGN#<c>#VIEWS#<shard>`` /
  ``VISITOR#<anonymous visitor id>``, 16 shards by visitor, so a hot landing page spreads its writes
- customer profile: ``M#<m>#CUSTOMER#<cus>`` / ``PROFILE``
- customer import job: ``M#<m>#CUSTOMERIMPORT#<job>`` / ``IMPORT``
- list export job: ``M#<m>#EXPORT#<job>`` / ``EXPORT``
- claim: ``M#<m>#CUSTOMER#<cus>`` / ``CLAIM#<c>`` (the customer's latest claim of the campaign);
  gsi1 ``M#<m>#CAMPAIGN#<c>#CLAIMS#<shard>`` / ``<claimed_at>#<cus>``
- earlier claim of the same campaign (``per_customer_limit`` above 1; kept when the next code is
  given): ``M#<m>#CUSTOMER#<cus>`` / ``CLAIM#<c>#<n>``, same gsi1
- message: ``M#<m>#CUSTOMER#<cus>`` / ``MESSAGE#<msg>``; its indexes are gsi3 and gsi4 (below)
- suppression: ``M#<m>#SUPPRESSION`` / ``EMAIL#<address>``
- soft bounces of an address (until they suppress it): ``M#<m>#SUPPRESSION`` / ``SOFTBOUNCE#<address>``
- campaign counts of messages by status: ``M#<m>#CAMPAIGN#<c>#STATS#<shard>`` / ``STATS``, one of
  ``STATS_SHARDS`` items chosen by the message id (summed on read), so no counter is a hot key

Second index ``gsi2`` (``gsi2pk``/``gsi2sk``) is sparse and time-ordered, for sweeps and
merchant listings by time; each use owns a partition prefix, written only while the item needs
the sweep and removed after:

- ``EXPIRES#<shard>`` / ``<offer_expires_at>#<m>#<c>#<cus>``: claims holding a code until their
  offer lapses (written at claim time when the campaign has an offer lifetime; removed when the
  claim is redeemed, expired or released)
- ``M#<m>#...``: merchant-scoped listings (e.g. customers by last interaction)
- ``M#<m>#CUSTOMERS#<shard>`` / ``<last_interaction_at>#<cus>``: a merchant's customers by last
  interaction, on ``CUSTOMER_INDEX_SHARDS`` keys by customer (every claim moves its customer's
  entry: one key would take a flash sale's every claim); the customers tab merges the shards
- ``POOLWATCH#<shard>`` / ``<m>#<c>``: campaigns whose pool alerts housekeeping must check
  (put on the campaign item when codes enter its pool, removed once the pool-empty alert went)
- ``SYNCPENDING#<shard>`` / ``<watched or last re-queued at>#<m>#<c>#<cus>``: provider syncs to
  watch, on a marker item ``M#<m>#CUSTOMER#<cus>`` / ``SYNCWATCH#<c>`` beside the claim (the
  claim's own gsi1 and gsi2 are taken); put before a consenting claim is written, deleted once
  its sync settled

Messages have indexes of their own, projecting keys only (a message is rewritten at its lease,
its hand-off and each event; an index projecting ``ALL`` would be rewritten every time):

- gsi3 (sweeps, time-ordered): ``OUTBOX#<shard>`` / ``<created_at>#<m>#<cus>#<msg>`` while a
  claim's message is queued (housekeeping re-queues messages stuck there; a segment send's
  messages skip it, a redelivered chunk queues them again), then ``AWAITING#<shard>`` /
  ``<sent_at>#<msg>`` from the hand-off to SES on (a segment send's emails from their send's
  finish, and only if still in flight then, ``housekeeping/stale_messages.watch_in_flight``;
  a final status leaves the entry: the stale
  sweep reads each entry once, past its mark ``SWEEPMARK#AWAITING#<shard>`` / ``MARK``, so
  taking it off would be a write per email for nothing); ``UNKNOWN#<shard>`` /
  ``<at>#<msg>`` instead when the hand-off's answer was lost, until an event or the deadline
  settles it (``services/mailer.py``)
- gsi4 (lookups): ``SESMESSAGE#<ses id>`` / ``MESSAGE`` once SES took the email, only where the
  operator routes identity notifications to us (they carry no tags; ``messages.handoff_fields``),
  ``SMSMESSAGE#<sns id>`` / ``MESSAGE`` once SNS took the text

The customers tab's search (``q``, a case-insensitive prefix of the email or the name) uses the
two keys-only indexes on the customer profile, written when the email or name is first set or
changed (a claim that only moves the last interaction does not touch them), on the customer's
shard of ``CUSTOMER_INDEX_SHARDS`` (as the listing), so a flash sale of new customers spreads
over as many keys; a search merges the shards in key order (``pages.collect_merged``):

- gsi3 ``M#<m>#CUSTEMAIL#<shard>`` / ``<email lower-cased>#<cus>``
- gsi4 ``M#<m>#CUSTNAME#<shard>`` / ``<name folded>#<cus>`` (the name as stored: first then last)

The list views' status filters use the keys-only index ``gsi5`` (``domain/list_views.py`` says
which bucket an item is in, why buckets, and why an email on its way has no entry):
``M#<m>#CAMPAIGN#<c>#VIEW#<bucket>#<shard>`` / ``<origin>#<cus>``, where the origin is the send
whose fan-out made the item (its ``send_id``), or ``claim`` for a storefront claim; a send's
tracker reads its own origin's range of the campaign's buckets. On a message once its bucket
has entries (opened, clicked, complained, undelivered; moved or removed by a status change only
when the bucket changes), on a claim past ``claimed``, and on a send's recipient refused at
fan-out. The shard is the customer's, of 16 for the bucket a flash sale writes (claims turned
away) and of 2 for the others (``list_views.shards_of``).

Segments and sends (``<seg>`` a segment id, ``<snd>`` a send id), listed newest first on gsi1:
``M#<m>#SEGMENTS`` / ``<created_at>#<seg>`` and ``M#<m>#SENDS`` / ``<created_at>#<snd>`` (a
merchant creates a handful a day: one key each is no hot key). The sends list's filters use the
keys-only indexes: gsi3 ``M#<m>#SEGMENT#<seg>#SENDS`` and gsi4 ``M#<m>#SENDS#<status>`` (moved
with each status change), both ``<created_at>#<snd>``.

- segment: ``M#<m>#SEGMENT#<seg>`` / ``SEGMENT`` (its ``active_send_id`` is the one-send lock)
- static member: ``M#<m>#SEGMENT#<seg>`` / ``MEMBER#<cus>``
- send: ``M#<m>#SEND#<snd>`` / ``SEND``; chunk done marker: ``M#<m>#SEND#<snd>`` / ``CHUNK#<n>``;
  a mail job's send lease: ``M#<m>#SEND#<snd>`` / ``MAILJOB#<chunk>.<block>`` (TTL ``expires_at``)
- recipient outcome: ``M#<m>#SEND#<snd>#RECIPIENTS#<shard>`` / ``CUS#<cus>`` (16 shards)
- gsi2 ``SENDING#<shard>`` / ``<started_at>#<m>#<snd>``: sends fanned out, awaiting completion

Why:
- A customer's page (profile, claims, messages) is one Query on ``M#<m>#CUSTOMER#<cus>``.
- One claim per (campaign, customer) is ``attribute_not_exists`` on the claim's own key.
- Available codes live in ``POOL_SHARDS`` partitions, and claims of a hot campaign land on as
  many customer partitions as there are customers; the campaign's claim listing index is
  sharded the same way, so no single key takes a flash sale's writes.
- The code registry item outlives the pool entry: a code is never loaded or handed out twice.

Account-wide (no merchant: SES's sending rate is the AWS account's, and housekeeping sweeps
every merchant's messages):

- SES send budget of one wall-clock second: ``SESRATE#<epoch second>`` / ``WINDOW`` (``used``
  counts the sends reserved in it; TTL ``expires_at``)
- how far the stale-message sweep has read each awaiting shard: ``SWEEPMARK#AWAITING#<shard>`` /
  ``MARK`` (``mark``: the ``gsi3sk`` of the last entry read)

Message events table (``pk``/``sk``, TTL ``expires_at``): ``M#<m>#MESSAGE#<msg>`` /
``EVENT#<occurred_at>#<event_key>``; events we cannot tie to a message go to ``ORPHAN#<ses id>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from couponflow.domain import list_views
from couponflow.ids import shard_of

POOL_SHARDS = 16
CLAIM_INDEX_SHARDS = 16
GSI1 = "gsi1"
GSI2 = "gsi2"
MESSAGE_SWEEPS = "gsi3"  # keys only: outbox, then awaiting; customers by email prefix
MESSAGE_LOOKUPS = "gsi4"  # keys only: SES and SNS message ids; customers by name prefix
CUSTOMERS_BY_EMAIL = MESSAGE_SWEEPS
CUSTOMERS_BY_NAME = MESSAGE_LOOKUPS
SWEEP_SHARDS = 16
CUSTOMER_INDEX_SHARDS = 16  # the customers listing and search indexes (every claim writes one)
VIEWS = "gsi5"  # keys only: a campaign's customers and a send's recipients by status bucket
SENDS_BY_SEGMENT = "gsi3"  # keys only: the sends list filtered by segment
SENDS_BY_STATUS = "gsi4"  # keys only: the sends list filtered by status


def merchant(merchant_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}", "sk": "PROFILE"}


def api_key(merchant_id: str, key_hash: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}", "sk": f"APIKEY#{key_hash}"}


def email_provider(merchant_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}", "sk": "INTEGRATION#EMAIL_PROVIDER"}


def campaign(merchant_id: str, campaign_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}", "sk": "CAMPAIGN"}


def campaigns_index(merchant_id: str) -> str:
    return f"M#{merchant_id}#CAMPAIGNS"


def claim_receipt(merchant_id: str, campaign_id: str, idempotency_key: str) -> dict[str, str]:
    """The answer a claim sent with an ``Idempotency-Key`` got (the key hashed: any length, any
    characters, one key per request so no hot key)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#RECEIPT#{digest}", "sk": "RECEIPT"}


def code_registry(merchant_id: str, campaign_id: str, code: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#CODE#{code}", "sk": "CODE"}


def pool_partition(merchant_id: str, campaign_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CAMPAIGN#{campaign_id}#POOL#{shard:02d}"


def pool_shard_of(code: str) -> int:
    return shard_of(code, POOL_SHARDS)


def pool_code(merchant_id: str, campaign_id: str, code: str) -> dict[str, str]:
    """An available code; its shard is a hash of the code, so loading is spread and idempotent."""
    return {"pk": pool_partition(merchant_id, campaign_id, pool_shard_of(code)), "sk": f"CODE#{code}"}


POOL_WATCH_SHARDS = 16


def pool_watch_partition(shard: int) -> str:
    return f"POOLWATCH#{shard:02d}"


def pool_watch_index(merchant_id: str, campaign_id: str) -> dict[str, str]:
    """gsi2 entry of a campaign whose pool alerts are armed (an operator index for housekeeping)."""
    return {
        "gsi2pk": pool_watch_partition(shard_of(f"{merchant_id}#{campaign_id}", POOL_WATCH_SHARDS)),
        "gsi2sk": f"{merchant_id}#{campaign_id}",
    }


PAGE_VIEW_SHARDS = 16


def page_view_partition(merchant_id: str, campaign_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CAMPAIGN#{campaign_id}#VIEWS#{shard:02d}"


def page_view(merchant_id: str, campaign_id: str, visitor_id: str) -> dict[str, str]:
    shard = shard_of(visitor_id, PAGE_VIEW_SHARDS)
    return {"pk": page_view_partition(merchant_id, campaign_id, shard), "sk": f"VISITOR#{visitor_id}"}


def pool_count(merchant_id: str, campaign_id: str, shard: int) -> dict[str, str]:
    """How many codes pool shard ``shard`` holds (own key: the shard's claim writes spread over two keys)."""
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#POOLCOUNT#{shard:02d}", "sk": "COUNT"}


def code_import(merchant_id: str, campaign_id: str, job_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#IMPORT#{job_id}", "sk": "IMPORT"}


def customer_import(merchant_id: str, job_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CUSTOMERIMPORT#{job_id}", "sk": "IMPORT"}


def daily_count(merchant_id: str, campaign_id: str, local_day: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#DAY#{local_day}", "sk": "COUNT"}


def customer_partition(merchant_id: str, customer_id: str) -> str:
    return f"M#{merchant_id}#CUSTOMER#{customer_id}"


def customer(merchant_id: str, customer_id: str) -> dict[str, str]:
    return {"pk": customer_partition(merchant_id, customer_id), "sk": "PROFILE"}


def claim(merchant_id: str, customer_id: str, campaign_id: str) -> dict[str, str]:
    return {"pk": customer_partition(merchant_id, customer_id), "sk": f"CLAIM#{campaign_id}"}


def earlier_claim(merchant_id: str, customer_id: str, campaign_id: str, number: int) -> dict[str, str]:
    """The customer's ``number``-th claim of the campaign, kept once a later one replaced it."""
    return {"pk": customer_partition(merchant_id, customer_id), "sk": f"CLAIM#{campaign_id}#{number:04d}"}


def campaign_claims_partition(merchant_id: str, campaign_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CAMPAIGN#{campaign_id}#CLAIMS#{shard:02d}"


def claim_index(merchant_id: str, campaign_id: str, customer_id: str, claimed_at: str) -> dict[str, str]:
    shard = shard_of(customer_id, CLAIM_INDEX_SHARDS)
    return {
        "gsi1pk": campaign_claims_partition(merchant_id, campaign_id, shard),
        "gsi1sk": f"{claimed_at}#{customer_id}",
    }


def message(merchant_id: str, customer_id: str, message_id: str) -> dict[str, str]:
    return {"pk": customer_partition(merchant_id, customer_id), "sk": f"MESSAGE#{message_id}"}


OUTBOX_SHARDS = 16


def outbox_index(merchant_id: str, customer_id: str, message_id: str, created_at: str) -> dict[str, str]:
    """A queued message not yet handed to SES (sparse: the SES-message index replaces it at hand-off).

    An operator index across merchants, for housekeeping; the item's own key names its merchant.
    """
    return {
        "gsi3pk": outbox_partition(shard_of(message_id, OUTBOX_SHARDS)),
        "gsi3sk": f"{created_at}#{merchant_id}#{customer_id}#{message_id}",
    }


def outbox_partition(shard: int) -> str:
    return f"OUTBOX#{shard:02d}"


def send_budget_window(second: int) -> dict[str, str]:
    return {"pk": f"SESRATE#{second}", "sk": "WINDOW"}


def ses_message_index(ses_message_id: str) -> dict[str, str]:
    return {"gsi4pk": f"SESMESSAGE#{ses_message_id}", "gsi4sk": "MESSAGE"}


def sync_watch(merchant_id: str, customer_id: str, campaign_id: str) -> dict[str, str]:
    return {"pk": customer_partition(merchant_id, customer_id), "sk": f"SYNCWATCH#{campaign_id}"}


def sync_pending_partition(shard: int) -> str:
    return f"SYNCPENDING#{shard}"


def sync_pending_index(merchant_id: str, customer_id: str, campaign_id: str, since: str) -> dict[str, str]:
    """Sparse gsi2 entry of a provider sync waiting since ``since`` (ISO time)."""
    return {
        "gsi2pk": sync_pending_partition(shard_of(customer_id, SWEEP_SHARDS)),
        "gsi2sk": f"{since}#{merchant_id}#{campaign_id}#{customer_id}",
    }


def sms_message_index(sns_message_id: str) -> dict[str, str]:
    """gsi4 of an SMS message once SNS accepted it: its delivery receipt names SNS's message id."""
    return {"gsi4pk": f"SMSMESSAGE#{sns_message_id}", "gsi4sk": "MESSAGE"}


def suppression(merchant_id: str, email: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#SUPPRESSION", "sk": f"EMAIL#{email}"}


def suppressions_partition(merchant_id: str) -> str:
    return f"M#{merchant_id}#SUPPRESSION"


def soft_bounces(merchant_id: str, email: str) -> dict[str, str]:
    return {"pk": suppressions_partition(merchant_id), "sk": f"SOFTBOUNCE#{email}"}


STATS_SHARDS = 16


def campaign_stats_shard(merchant_id: str, campaign_id: str, shard: int) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#CAMPAIGN#{campaign_id}#STATS#{shard:02d}", "sk": "STATS"}


def campaign_stats_for(merchant_id: str, campaign_id: str, message_id: str) -> dict[str, str]:
    """The counter shard a message's status moves are counted on (stable per message)."""
    return campaign_stats_shard(merchant_id, campaign_id, shard_of(message_id, STATS_SHARDS))


def unknown_outcome_partition(shard: int) -> str:
    return f"UNKNOWN#{shard:02d}"


def unknown_outcome_index(message_id: str, at: str) -> dict[str, str]:
    """A message whose hand-off to SES had no answer (sparse gsi3; removed once it settles)."""
    return {
        "gsi3pk": unknown_outcome_partition(shard_of(message_id, SWEEP_SHARDS)),
        "gsi3sk": f"{at}#{message_id}",
    }


def awaiting_partition(shard: int) -> str:
    return f"AWAITING#{shard:02d}"


def awaiting_index(message_id: str, sent_at: str) -> dict[str, str]:
    """A message handed to SES (sparse gsi3; kept at a final status, see the module docstring).

    An operator index across merchants, for housekeeping; the item's own key names its merchant.
    """
    return {
        "gsi3pk": awaiting_partition(shard_of(message_id, SWEEP_SHARDS)),
        "gsi3sk": f"{sent_at}#{message_id}",
    }


def awaiting_mark(shard: int) -> dict[str, str]:
    """How far the stale-message sweep has read one awaiting shard (``gsi3sk`` of its last entry)."""
    return {"pk": f"SWEEPMARK#{awaiting_partition(shard)}", "sk": "MARK"}


def expiry_partition(shard: int) -> str:
    return f"EXPIRES#{shard:02d}"


def offer_expiry_index(
    merchant_id: str, campaign_id: str, customer_id: str, expires_at: str
) -> dict[str, str]:
    """A claim holding a code until its offer lapses (sparse gsi2, an operator index for housekeeping)."""
    return {
        "gsi2pk": expiry_partition(shard_of(customer_id, SWEEP_SHARDS)),
        "gsi2sk": f"{expires_at}#{merchant_id}#{campaign_id}#{customer_id}",
    }


def message_events_partition(merchant_id: str, message_id: str) -> str:
    return f"M#{merchant_id}#MESSAGE#{message_id}"


def message_event(merchant_id: str, message_id: str, occurred_at: str, event_key: str) -> dict[str, str]:
    return {"pk": message_events_partition(merchant_id, message_id), "sk": f"EVENT#{occurred_at}#{event_key}"}


def orphan_event(ses_message_id: str, occurred_at: str, event_key: str) -> dict[str, str]:
    return {"pk": f"ORPHAN#{ses_message_id}", "sk": f"EVENT#{occurred_at}#{event_key}"}


def customers_index(merchant_id: str, customer_id: str, last_interaction_at: str | None) -> dict[str, str]:
    """A merchant's customers ordered by last interaction (``-`` sorts before any timestamp), on
    the customer's shard of ``CUSTOMER_INDEX_SHARDS``."""
    return {
        "gsi2pk": customers_partition(merchant_id, customer_shard(customer_id)),
        "gsi2sk": f"{last_interaction_at or '-'}#{customer_id}",
    }


def customer_shard(customer_id: str) -> int:
    """The shard of the customer's entries on the listing and search indexes."""
    return shard_of(customer_id, CUSTOMER_INDEX_SHARDS)


def customers_partition(merchant_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CUSTOMERS#{shard:02d}"


def customer_of_index_entry(sort_key: str) -> str:
    """The customer id an entry of the listing or a search index names (its sort key's end)."""
    return sort_key.rsplit("#", 1)[-1]


_STORAGE = re.compile(
    r"^(pk|sk|gsi\d+(pk|sk)|type|status_rank|pool_version|event_order|lease_\w+|empty_shards|unlisted|held_until|mail_job)$"
)


def without_storage(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item without its keys, index keys and bookkeeping: nothing of the key design leaves
    the store through a view built on this."""
    return {k: sorted(v) if isinstance(v, set) else v for k, v in item.items() if not _STORAGE.match(k)}


def fold(text: str) -> str:
    """The form searched: lower-cased, accents kept, spaces collapsed."""
    return " ".join(text.casefold().split())


def customer_email_partition(merchant_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CUSTEMAIL#{shard:02d}"


def customer_name_partition(merchant_id: str, shard: int) -> str:
    return f"M#{merchant_id}#CUSTNAME#{shard:02d}"


def customer_search_index(
    merchant_id: str, customer_id: str, *, email: str | None, name: str | None
) -> dict[str, str]:
    """The profile's search entries for what it has: by email (gsi3) and by name (gsi4)."""
    entries: dict[str, str] = {}
    shard = customer_shard(customer_id)
    if email:
        entries["gsi3pk"] = customer_email_partition(merchant_id, shard)
        entries["gsi3sk"] = f"{fold(email)}#{customer_id}"
    if name and fold(name):
        entries["gsi4pk"] = customer_name_partition(merchant_id, shard)
        entries["gsi4sk"] = f"{fold(name)}#{customer_id}"
    return entries


def segments_index(merchant_id: str, segment_id: str, created_at: str) -> dict[str, str]:
    return {"gsi1pk": f"M#{merchant_id}#SEGMENTS", "gsi1sk": f"{created_at}#{segment_id}"}


def sends_index(merchant_id: str, send_id: str, created_at: str) -> dict[str, str]:
    return {"gsi1pk": f"M#{merchant_id}#SENDS", "gsi1sk": f"{created_at}#{send_id}"}


def segment_sends_partition(merchant_id: str, segment_id: str) -> str:
    return f"M#{merchant_id}#SEGMENT#{segment_id}#SENDS"


def sends_in_status_partition(merchant_id: str, status: str) -> str:
    return f"M#{merchant_id}#SENDS#{status}"


def send_filters_index(merchant_id: str, send: Mapping[str, Any]) -> dict[str, str]:
    """A send's entries on the keys-only indexes that filter the sends list: by its segment
    (gsi3) and by its status (gsi4, moved with each status change), newest first in each."""
    order = f"{send['created_at']}#{send['send_id']}"
    return {
        "gsi3pk": segment_sends_partition(merchant_id, send["segment_id"]),
        "gsi3sk": order,
        "gsi4pk": sends_in_status_partition(merchant_id, send["status"]),
        "gsi4sk": order,
    }


def segment_partition(merchant_id: str, segment_id: str) -> str:
    return f"M#{merchant_id}#SEGMENT#{segment_id}"


def segment(merchant_id: str, segment_id: str) -> dict[str, str]:
    return {"pk": segment_partition(merchant_id, segment_id), "sk": "SEGMENT"}


def segment_member(merchant_id: str, segment_id: str, customer_id: str) -> dict[str, str]:
    return {"pk": segment_partition(merchant_id, segment_id), "sk": f"MEMBER#{customer_id}"}


def send_partition(merchant_id: str, send_id: str) -> str:
    return f"M#{merchant_id}#SEND#{send_id}"


def send(merchant_id: str, send_id: str) -> dict[str, str]:
    return {"pk": send_partition(merchant_id, send_id), "sk": "SEND"}


def send_chunk(merchant_id: str, send_id: str, chunk: int) -> dict[str, str]:
    return {"pk": send_partition(merchant_id, send_id), "sk": f"CHUNK#{chunk:06d}"}


def mail_job(merchant_id: str, send_id: str, job: str) -> dict[str, str]:
    """The send lease of one of the send's mail jobs (``store/mail_jobs.py``)."""
    return {"pk": send_partition(merchant_id, send_id), "sk": f"MAILJOB#{job}"}


RECIPIENT_SHARDS = 16


def send_recipients_partition(merchant_id: str, send_id: str, shard: int) -> str:
    return f"M#{merchant_id}#SEND#{send_id}#RECIPIENTS#{shard:02d}"


def send_recipient(merchant_id: str, send_id: str, customer_id: str) -> dict[str, str]:
    shard = shard_of(customer_id, RECIPIENT_SHARDS)
    return {"pk": send_recipients_partition(merchant_id, send_id, shard), "sk": f"CUS#{customer_id}"}


SENDING_SHARDS = 4


def sending_partition(shard: int) -> str:
    return f"SENDING#{shard:02d}"


def sending_index(merchant_id: str, send_id: str, started_at: str) -> dict[str, str]:
    """A send in progress, for the completion sweep (an operator index; removed when it ends)."""
    return {
        "gsi2pk": sending_partition(shard_of(send_id, SENDING_SHARDS)),
        "gsi2sk": f"{started_at}#{merchant_id}#{send_id}",
    }


def export_job(merchant_id: str, job_id: str) -> dict[str, str]:
    return {"pk": f"M#{merchant_id}#EXPORT#{job_id}", "sk": "EXPORT"}


def views_partition(merchant_id: str, campaign_id: str, bucket: str, shard: int) -> str:
    return f"M#{merchant_id}#CAMPAIGN#{campaign_id}#VIEW#{bucket}#{shard:02d}"


def view_entry(
    merchant_id: str, campaign_id: str, bucket: str, customer_id: str, origin: str
) -> dict[str, str]:
    """An item's entry on the views index (``gsi5``) under ``bucket``; ``origin`` a send id or
    ``claim``."""
    shard = shard_of(customer_id, list_views.shards_of(bucket))
    return {
        "gsi5pk": views_partition(merchant_id, campaign_id, bucket, shard),
        "gsi5sk": f"{origin}#{customer_id}",
    }


def view_origin(item: Mapping[str, Any]) -> str:
    """The origin of an item's views entry: its send, or ``claim``."""
    return str(item.get("send_id") or CLAIM_ORIGIN)


CLAIM_ORIGIN = "claim"


def customer_of_view(entry: Mapping[str, Any]) -> str:
    """The customer of an entry read from the views index."""
    return str(entry["gsi5sk"]).split("#", 1)[1]
