"""The merchant's list views: the customers tab, campaigns, a campaign's customers, segments and their
members, the sends activity list and a send's tracker.

Each page is read from a key or an index (``store/keys.py`` says which), a few DynamoDB
requests at most (``store/pages.py``): a Query, and a BatchGetItem for what the rows show from
other items (profiles, messages, claims). Rows are built field by field (``models/views.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain import list_views
from couponflow.domain.audience import ACTIVE_DAYS, SegmentRule, is_active
from couponflow.domain.list_views import CampaignRowStatus
from couponflow.domain.message_status import never_meant
from couponflow.domain.pool_alerts import standing
from couponflow.domain.send_tracker import TrackerStatus, campaign_status, tracker_row
from couponflow.models.views import (
    CampaignCustomerPage,
    CampaignCustomerRow,
    CampaignPage,
    CampaignRow,
    ClaimPage,
    ClaimRow,
    CustomerPage,
    CustomerRow,
    RecipientPage,
    RecipientRow,
    SegmentPage,
    SegmentRow,
    SegmentRuleOut,
    SendPage,
    SendRow,
)
from couponflow.services import campaign_admin
from couponflow.store import audience, campaigns, keys, pages, sends

Key = tuple[str, str]


def _key(item: Item) -> Key:
    return item["pk"], item["sk"]


def _read(table: Table, wanted: Iterable[dict[str, str]]) -> dict[Key, Item]:
    """The items of ``wanted`` keys that exist, in one BatchGetItem per hundred keys."""
    unique = list({(k["pk"], k["sk"]): k for k in wanted}.values())
    return {_key(item): item for item in table.batch_get(unique)} if unique else {}


def _in_order(table: Table, wanted: list[dict[str, str]]) -> list[Item]:
    """The items of ``wanted`` keys that exist, in that order (index entries -> their items)."""
    found = _read(table, wanted)
    return [found[(k["pk"], k["sk"])] for k in wanted if (k["pk"], k["sk"]) in found]


# --------------------------------------------------------------------------------------------
# Customers tab
# --------------------------------------------------------------------------------------------


def customer_row(item: Item, now: datetime) -> CustomerRow:
    return CustomerRow(
        customer_id=item["customer_id"],
        email=item.get("email"),
        phone=item.get("phone"),
        first_name=item.get("first_name"),
        last_name=item.get("last_name"),
        name=item.get("name"),
        last_interaction_at=item.get("last_interaction_at"),
        active=is_active(item.get("last_interaction_at"), now),
        lists=len(item.get("segment_ids") or ()),
        unsubscribed=bool(item.get("unsubscribed_at")),
        unsubscribed_at=item.get("unsubscribed_at"),
        marketing_consent=item.get("marketing_consent"),
        tags=sorted(item.get("tags") or []),
        created_at=item.get("created_at"),
    )


def _status_filter(status: str | None, now: datetime) -> Callable[[Item], bool] | None:
    if status is None:
        return None
    wanted = status == "active"
    return lambda item: is_active(item.get("last_interaction_at"), now) == wanted


def customers(
    table: Table,
    merchant_id: str,
    *,
    status: str | None = None,
    q: str | None = None,
    limit: int = 50,
    after: str | None = None,
    now: datetime | None = None,
) -> CustomerPage:
    """Newest interaction first; ``status`` active/inactive (365 days) is a range of the listing's
    key; ``q`` a case-insensitive prefix of the email (then of the name) on the search indexes."""
    now = now or datetime.now(UTC)
    if q and keys.fold(q):
        return _search(table, merchant_id, keys.fold(q), status=status, limit=limit, after=after, now=now)
    cutoff = (now - timedelta(days=ACTIVE_DAYS)).isoformat()
    if status is None:
        return _by_last_interaction(table, merchant_id, limit=limit, after=after, now=now)
    condition = " AND gsi2sk > :cut" if status == "active" else " AND gsi2sk <= :cut"
    return _by_last_interaction(
        table, merchant_id, condition=condition, values={":cut": cutoff}, limit=limit, after=after, now=now
    )


def _by_last_interaction(
    table: Table,
    merchant_id: str,
    *,
    condition: str = "",
    values: dict[str, Any] | None = None,
    keep: Callable[[Item], bool] | None = None,
    limit: int,
    after: str | None,
    now: datetime,
) -> CustomerPage:
    """The customers listing, newest interaction first, merged over its shards (``condition``
    a range of its sort key, ``keep`` a check of each profile read)."""
    listing = _customer_shards(
        table,
        merchant_id,
        keys.GSI2,
        keys.customers_partition,
        forward=False,
        condition=condition,
        values=values,
    )
    items, cursor = pages.collect_merged(
        lambda _, shard, start, count: listing(shard, start, count),
        shards=keys.CUSTOMER_INDEX_SHARDS,
        cursor=pages.decode_merge(after, shards=keys.CUSTOMER_INDEX_SHARDS),
        limit=limit,
        sort_key=lambda item: str(item["gsi2sk"]),
        descending=True,
    )
    shown = [i for i in items if keep is None or keep(i)]
    return CustomerPage(items=[customer_row(i, now) for i in shown], next=pages.encode_merge(cursor))


def _customer_shards(
    table: Table,
    merchant_id: str,
    index: str,
    partition: Callable[[str, int], str],
    *,
    forward: bool,
    condition: str = "",
    values: dict[str, Any] | None = None,
) -> Callable[[int, str | None, int], tuple[list[Item], bool]]:
    """A query of one shard of a customer index (the listing, or a search index) from a sort key
    on: a start key is rebuilt from the sort key (it ends with the customer id), so a cursor
    holds sort keys only, and names no other merchant's customer."""

    def query(shard: int, after: str | None, count: int) -> tuple[list[Item], bool]:
        start = None
        if after is not None:
            customer = keys.customer(merchant_id, keys.customer_of_index_entry(after))
            start = {**customer, f"{index}pk": partition(merchant_id, shard), f"{index}sk": after}
        found, last = table.query_page(
            f"{index}pk = :pk" + condition,
            {":pk": partition(merchant_id, shard), **(values or {})},
            limit=count,
            start_key=start,
            index=index,
            forward=forward,
        )
        return found, last is not None

    return query


def _search(
    table: Table,
    merchant_id: str,
    q: str,
    *,
    status: str | None,
    limit: int,
    after: str | None,
    now: datetime,
) -> CustomerPage:
    """Phase 0: emails starting with ``q``; phase 1: names starting with it (less those phase 0
    listed). Each is a keys-only index merged over its shards in key order, the page's profiles
    read in one batch."""
    prefix = {":q": q}
    by_email = _customer_shards(
        table,
        merchant_id,
        keys.CUSTOMERS_BY_EMAIL,
        keys.customer_email_partition,
        forward=True,
        condition=" AND begins_with(gsi3sk, :q)",
        values=prefix,
    )
    by_name = _customer_shards(
        table,
        merchant_id,
        keys.CUSTOMERS_BY_NAME,
        keys.customer_name_partition,
        forward=True,
        condition=" AND begins_with(gsi4sk, :q)",
        values=prefix,
    )
    entries, cursor = pages.collect_merged(
        lambda phase, shard, start, count: (by_email if phase == 0 else by_name)(shard, start, count),
        shards=keys.CUSTOMER_INDEX_SHARDS,
        phases=2,
        cursor=pages.decode_merge(after, shards=keys.CUSTOMER_INDEX_SHARDS, phases=2),
        limit=limit,
        sort_key=lambda entry: str(entry.get("gsi3sk") or entry.get("gsi4sk")),
        descending=False,
    )
    profiles = _read(table, [{"pk": e["pk"], "sk": e["sk"]} for e in entries])
    keep = _status_filter(status, now)
    shown = []
    for entry in entries:
        profile = profiles.get(_key(entry))
        if profile is None:
            continue
        if "gsi4sk" in entry and keys.fold(str(profile.get("email") or "")).startswith(q):
            continue  # a name match listed already by its email (phase 0)
        if keep is None or keep(profile):
            shown.append(profile)
    return CustomerPage(items=[customer_row(i, now) for i in shown], next=pages.encode_merge(cursor))


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def segment_row(item: Item) -> SegmentRow:
    rule = item.get("rule")
    return SegmentRow(
        segment_id=item["segment_id"],
        name=item["name"],
        kind=item.get("kind", "static"),
        rule=SegmentRuleOut(**rule) if rule else None,
        created_at=item["created_at"],
        active_send_id=item.get("active_send_id"),
    )


def segments(table: Table, merchant_id: str, *, limit: int = 50, after: str | None = None) -> SegmentPage:
    """Newest first."""
    values = {":pk": keys.segments_index(merchant_id, "", "")["gsi1pk"]}
    fetch = pages.query_pages(table, "gsi1pk = :pk", lambda _: values, index=keys.GSI1, forward=False)
    items, cursor = pages.collect(fetch, partitions=1, cursor=pages.decode(after), limit=limit)
    return SegmentPage(items=[segment_row(i) for i in items], next=pages.encode(cursor))


def members(
    table: Table,
    merchant_id: str,
    segment_id: str,
    *,
    limit: int = 50,
    after: str | None = None,
    now: datetime | None = None,
) -> CustomerPage:
    """A static segment's members in the order of their ids; a rule segment's, read from what
    its rule is served by (the campaign's claims, or the customers active within its days)."""
    now = now or datetime.now(UTC)
    segment = audience.get_segment(table, merchant_id, segment_id)
    raw = segment.get("rule")
    if not raw:
        partition = keys.segment_partition(merchant_id, segment_id)
        listing = pages.query_pages(
            table, "pk = :pk AND begins_with(sk, :m)", lambda _: {":pk": partition, ":m": "MEMBER#"}
        )

        def static(part: int, start: Item | None, count: int) -> tuple[list[Item], Item | None]:
            entries, last = listing(part, start, count)
            return _in_order(table, [keys.customer(merchant_id, e["customer_id"]) for e in entries]), last

        items, cursor = pages.collect(static, partitions=1, cursor=pages.decode(after), limit=limit)
        return CustomerPage(items=[customer_row(i, now) for i in items], next=pages.encode(cursor))
    rule = SegmentRule(**raw)
    if rule.claimed_campaign_id:
        return _claimants(table, merchant_id, rule, limit=limit, after=after, now=now)
    condition, values = "", {}
    if rule.active_within_days is not None:
        condition = " AND gsi2sk > :since"
        values[":since"] = (now - timedelta(days=rule.active_within_days)).isoformat()
    return _by_last_interaction(
        table,
        merchant_id,
        condition=condition,
        values=values,
        keep=lambda c: rule.matches(c, now),
        limit=limit,
        after=after,
        now=now,
    )


def _claimants(
    table: Table, merchant_id: str, rule: SegmentRule, *, limit: int, after: str | None, now: datetime
) -> CustomerPage:
    campaign_id = str(rule.claimed_campaign_id)
    shards = pages.query_pages(
        table,
        "gsi1pk = :pk",
        lambda shard: {":pk": keys.campaign_claims_partition(merchant_id, campaign_id, shard)},
        index=keys.GSI1,
    )

    def fetch(shard: int, start: Item | None, count: int) -> tuple[list[Item], Item | None]:
        claims, last = shards(shard, start, count)
        return _in_order(
            table, [keys.customer(merchant_id, c["customer_id"]) for c in claims if c.get("code")]
        ), last

    items, cursor = pages.collect(
        fetch,
        partitions=keys.CLAIM_INDEX_SHARDS,
        cursor=pages.decode(after, keys.CLAIM_INDEX_SHARDS),
        limit=limit,
        keep=lambda c: rule.matches(c, now, {c["customer_id"]}),
    )
    return CustomerPage(items=[customer_row(i, now) for i in items], next=pages.encode(cursor))


# --------------------------------------------------------------------------------------------
# Campaigns
# --------------------------------------------------------------------------------------------


def campaign_list(table: Table, merchant_id: str, *, limit: int, after: str | None = None) -> CampaignPage:
    """Newest first, a page from the campaigns index, each with its codes left (one BatchGetItem
    of the page's pool counters per six campaigns) and what needs the merchant's attention."""
    values = {":pk": keys.campaigns_index(merchant_id)}
    fetch = pages.query_pages(table, "gsi1pk = :pk", lambda _: values, index=keys.GSI1, forward=False)
    items, cursor = pages.collect(fetch, partitions=1, cursor=pages.decode(after), limit=limit)
    left = campaigns.available_in(table, merchant_id, [i["campaign_id"] for i in items])
    rows = []
    for item in items:
        available = left[item["campaign_id"]]
        alerts = [
            str(a)
            for a in standing(available, item.get("pool_alert_threshold"), loaded="pool_version" in item)
        ]
        if item.get("paused"):
            alerts.append("paused")
        rows.append(
            CampaignRow.model_validate(
                {**campaign_admin.with_defaults(item), "codes_available": available, "alerts": alerts}
            )
        )
    return CampaignPage(items=rows, count=len(rows), next=pages.encode(cursor))


# --------------------------------------------------------------------------------------------
# A campaign's customers
# --------------------------------------------------------------------------------------------


def campaign_customers(
    table: Table,
    merchant_id: str,
    campaign_id: str,
    *,
    status: CampaignRowStatus | None = None,
    limit: int = 50,
    after: str | None = None,
) -> CampaignCustomerPage:
    """The campaign's claims, shard by shard (newest first in each), with the coupon email's
    status and the customer's name read in one batch per page. Filtered by ``status``, the page
    is read from the views index's buckets that status can come from (``_by_status``), or from
    the list itself for the statuses of an email on its way, which most rows have
    (``domain/list_views.py``)."""
    buckets = list_views.campaign_buckets(status) if status is not None else ()
    if status is not None and not list_views.from_the_list(buckets):
        campaigns.get(table, merchant_id, campaign_id)

        def claims_of(entries: list[Item]) -> list[Item]:
            wanted = [keys.claim(merchant_id, keys.customer_of_view(e), campaign_id) for e in entries]
            return _with_entries(_campaign_rows(table, merchant_id, _in_order(table, wanted)), entries)

        rows, following = _by_status(
            table,
            merchant_id,
            campaign_id,
            buckets,
            origin=None,
            rows=claims_of,
            status=str(status),
            limit=limit,
            after=after,
        )
    else:
        rows, following = pages.collect_rows(
            _claim_shards(table, merchant_id, campaign_id),
            lambda claims: _campaign_rows(table, merchant_id, claims),
            partitions=keys.CLAIM_INDEX_SHARDS,
            cursor=pages.decode(after, keys.CLAIM_INDEX_SHARDS),
            limit=limit,
            keep=None if status is None else (lambda row: row["status"] == status),
            key_names=("pk", "sk", "gsi1pk", "gsi1sk"),
        )
    return CampaignCustomerPage(
        items=[CampaignCustomerRow(**_shown(row)) for row in rows], next=pages.encode(following)
    )


def campaign_claims(
    table: Table, merchant_id: str, campaign_id: str, *, limit: int = 50, after: str | None = None
) -> ClaimPage:
    """The campaign's claims as stored, shard by shard (newest first in each)."""
    items, cursor = pages.collect(
        _claim_shards(table, merchant_id, campaign_id),
        partitions=keys.CLAIM_INDEX_SHARDS,
        cursor=pages.decode(after, keys.CLAIM_INDEX_SHARDS),
        limit=limit,
    )
    return ClaimPage(items=[ClaimRow.model_validate(i) for i in items], next=pages.encode(cursor))


def _claim_shards(table: Table, merchant_id: str, campaign_id: str) -> pages.Fetch:
    """The campaign's claim index, ``CLAIM_INDEX_SHARDS`` partitions; 404 for an unknown campaign
    (or another merchant's)."""
    campaigns.get(table, merchant_id, campaign_id)
    return pages.query_pages(
        table,
        "gsi1pk = :pk",
        lambda shard: {":pk": keys.campaign_claims_partition(merchant_id, campaign_id, shard)},
        index=keys.GSI1,
        forward=False,
    )


def _campaign_rows(table: Table, merchant_id: str, claims: list[Item]) -> list[Item]:
    wanted = [keys.customer(merchant_id, c["customer_id"]) for c in claims]
    wanted += [
        keys.message(merchant_id, c["customer_id"], c["message_id"]) for c in claims if c.get("message_id")
    ]
    found = _read(table, wanted)
    rows = []
    for claim in claims:
        partition = keys.customer_partition(merchant_id, claim["customer_id"])
        profile = found.get((partition, "PROFILE"), {})
        message = found.get((partition, f"MESSAGE#{claim.get('message_id')}"))
        email_status = message.get("status") if message else None
        if never_meant(email_status, (message or {}).get("status_details")):
            email_status = None  # texted only: no email of theirs
        entries = {list_views.claim_bucket(claim["status"]): _key(claim)}
        if message:
            entries[list_views.message_bucket(message["status"], message.get("status_details"))] = _key(
                message
            )
        rows.append(
            {
                "_entries": entries,
                "customer_id": claim["customer_id"],
                "email": claim.get("email") or profile.get("email"),
                "name": profile.get("name"),
                "status": campaign_status(claim, email_status),
                "reason": claim.get("reason"),
                "claim_status": claim["status"],
                "email_status": email_status,
                "claimed_at": claim.get("claimed_at"),
                "integration_status": claim.get("integration_status"),
                "integration_detail": claim.get("integration_detail"),
                "integration_at": claim.get("integration_at"),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# Sends and the send tracker
# --------------------------------------------------------------------------------------------


def send_row(item: Item) -> SendRow:
    counts = {k.removeprefix("count_"): v for k, v in item.items() if k.startswith("count_")}
    for name in ("sent", "failed", "failed_by_reason", "eligible", "excluded"):
        if name in item:
            counts[name] = item[name]
    return SendRow(
        send_id=item["send_id"],
        segment_id=item["segment_id"],
        campaign_id=item["campaign_id"],
        channel=item["channel"],
        status=item["status"],
        send_at=item["send_at"],
        created_at=item["created_at"],
        reason=item.get("reason"),
        counts=counts,
        report_url=item.get("report_url"),
        report_expires_at=item.get("report_expires_at"),
    )


def send_list(
    table: Table,
    merchant_id: str,
    *,
    segment_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> SendPage:
    """Newest first. Filtered by ``segment_id``, read from the segment's sends (gsi3; a status
    as well is checked on those, a segment's sends being few); by ``status`` alone, from the
    sends in that status (gsi4); both indexes keep keys only, and a page's sends are read in
    one batch."""
    if segment_id is None and status is None:
        values = {":pk": keys.sends_index(merchant_id, "", "")["gsi1pk"]}
        fetch = pages.query_pages(table, "gsi1pk = :pk", lambda _: values, index=keys.GSI1, forward=False)
        items, cursor = pages.collect(fetch, partitions=1, cursor=pages.decode(after), limit=limit)
        return SendPage(items=[send_row(i) for i in items], next=pages.encode(cursor))
    if segment_id is not None:
        index, partition = keys.SENDS_BY_SEGMENT, keys.segment_sends_partition(merchant_id, segment_id)
    else:
        index, partition = keys.SENDS_BY_STATUS, keys.sends_in_status_partition(merchant_id, str(status))
    values = {":pk": partition}
    fetch = pages.query_pages(table, f"{index}pk = :pk", lambda _: values, index=index, forward=False)

    def read(entries: list[Item]) -> list[Item]:  # one per entry ({} for a send gone since)
        found = _read(table, [{"pk": e["pk"], "sk": e["sk"]} for e in entries])
        return [found.get((e["pk"], e["sk"]), {}) for e in entries]

    rows, cursor = pages.collect_rows(
        fetch,
        read,
        partitions=1,
        cursor=pages.decode(after),
        limit=limit,
        keep=lambda item: bool(item) and (status is None or item["status"] == status),
        key_names=("pk", "sk", f"{index}pk", f"{index}sk"),
    )
    return SendPage(items=[send_row(i) for i in rows], next=pages.encode(cursor))


def recipients(
    table: Table,
    merchant_id: str,
    send_id: str,
    *,
    status: TrackerStatus | None = None,
    limit: int = 50,
    after: str | None = None,
) -> RecipientPage:
    """The send's recipients shard by shard, each with their messages' and claim's status read
    in one batch per page. Filtered by the tracker ``status``, the page is read from the send's
    range of the views index's buckets that status can come from (``_by_status``), or from the
    list itself for ``initiated`` and ``sent``, which most rows are (``domain/list_views.py``)."""
    send = sends.get(table, merchant_id, send_id)
    campaign_id = send["campaign_id"]
    buckets = list_views.tracker_buckets(status) if status else ()
    if status is not None and not list_views.from_the_list(buckets):

        def recipients_of(entries: list[Item]) -> list[Item]:
            wanted = [keys.send_recipient(merchant_id, send_id, keys.customer_of_view(e)) for e in entries]
            found = _in_order(table, wanted)
            return _with_entries(_tracker_rows(table, merchant_id, campaign_id, found), entries)

        rows, following = _by_status(
            table,
            merchant_id,
            campaign_id,
            buckets,
            origin=send_id,
            rows=recipients_of,
            status=str(status),
            limit=limit,
            after=after,
        )
    else:
        shards = pages.query_pages(
            table,
            "pk = :pk",
            lambda shard: {":pk": keys.send_recipients_partition(merchant_id, send_id, shard)},
        )
        rows, following = pages.collect_rows(
            shards,
            lambda found: _tracker_rows(table, merchant_id, campaign_id, found),
            partitions=keys.RECIPIENT_SHARDS,
            cursor=pages.decode(after, keys.RECIPIENT_SHARDS),
            limit=limit,
            keep=None if status is None else (lambda row: row["status"] == status),
        )
    return RecipientPage(items=[RecipientRow(**_shown(row)) for row in rows], next=pages.encode(following))


def _tracker_rows(table: Table, merchant_id: str, campaign_id: str, found: list[Item]) -> list[Item]:
    wanted: list[dict[str, str]] = []
    for r in found:
        cid = r["customer_id"]
        wanted.append(keys.claim(merchant_id, cid, campaign_id))
        wanted += [keys.message(merchant_id, cid, r[m]) for m in ("message_id", "sms_message_id") if r.get(m)]
    read = _read(table, wanted)

    def status_of(cid: str, sk: str | None) -> str | None:
        item = read.get((keys.customer_partition(merchant_id, cid), sk or ""))
        return str(item["status"]) if item and item.get("status") else None

    rows = []
    for r in found:
        cid = r["customer_id"]
        email_status = status_of(cid, f"MESSAGE#{r['message_id']}") if r.get("email_queued") else None
        sms_status = status_of(cid, f"MESSAGE#{r['sms_message_id']}") if r.get("sms_message_id") else None
        claim_status = status_of(cid, f"CLAIM#{campaign_id}") if r.get("outcome") != "failed" else None
        shown, issue = tracker_row(r, email_status, sms_status, claim_status)
        rows.append(
            {
                "_entries": _tracker_entries(
                    merchant_id,
                    campaign_id,
                    r,
                    email_status=email_status,
                    sms_status=sms_status,
                    claim_status=claim_status,
                ),
                "customer_id": cid,
                "email": r.get("email"),
                "phone": r.get("phone"),
                "status": str(shown),
                "issue": issue,
                "email_status": email_status,
                "sms_status": sms_status,
                "claim_status": claim_status,
                "message_id": r.get("message_id") if r.get("email_queued") else None,
                "sms_message_id": r.get("sms_message_id"),
                "at": r.get("at"),
            }
        )
    return rows


def _tracker_entries(
    merchant_id: str,
    campaign_id: str,
    recipient: Item,
    *,
    email_status: str | None,
    sms_status: str | None,
    claim_status: str | None,
) -> dict[str | None, Key]:
    """Bucket -> item of a tracker row's entries on the views index (``_by_status``)."""
    cid = recipient["customer_id"]
    if recipient.get("outcome") == "failed":
        return {list_views.UNDELIVERED: _key(recipient)}
    entries: dict[str | None, Key] = {}
    if claim_status:
        entries[list_views.claim_bucket(claim_status)] = _key(keys.claim(merchant_id, cid, campaign_id))
    if recipient.get("email_queued") and email_status:
        entries[list_views.message_bucket(email_status)] = _key(
            keys.message(merchant_id, cid, recipient["message_id"])
        )
    elif sms_status:
        sms = keys.message(merchant_id, cid, recipient["sms_message_id"])
        entries.setdefault(list_views.message_bucket(sms_status), _key(sms))
    return entries


# --------------------------------------------------------------------------------------------
# Status filters served by the views index
# --------------------------------------------------------------------------------------------


def _by_status(
    table: Table,
    merchant_id: str,
    campaign_id: str,
    buckets: tuple[str, ...],
    *,
    origin: str | None,
    rows: Callable[[list[Item]], list[Item]],
    status: str,
    limit: int,
    after: str | None,
) -> tuple[list[Item], pages.Cursor | None]:
    """A page of rows whose status is ``status``, read from the views index (``gsi5``): the
    ``buckets`` the status can come from, each shard of each in turn (the busiest bucket first),
    ``origin``'s range only when given (a send's tracker). A row's items may sit in several of
    the buckets read (an email clicked and its coupon viewed): it is listed once, from the first
    of them, so no row shows twice on any page; and only when its status, computed as always, is
    the one asked for (an entry read just before its item moved on is skipped). Each read asks
    for a page's worth, and a page that fills part way ends at its last row's entry."""
    parts = [(bucket, shard) for bucket in buckets for shard in range(list_views.shards_of(bucket))]
    condition = "gsi5pk = :pk" + (" AND begins_with(gsi5sk, :origin)" if origin else "")

    def values(partition: int) -> dict[str, str]:
        bucket, shard = parts[partition]
        given = {":pk": keys.views_partition(merchant_id, campaign_id, bucket, shard)}
        return {**given, ":origin": f"{origin}#"} if origin else given

    query = pages.query_pages(table, condition, values, index=keys.VIEWS)

    def fetch(partition: int, start: Item | None, count: int) -> tuple[list[Item], Item | None]:
        entries, last = query(partition, start, count)
        return [{**e, "_bucket": parts[partition][0]} for e in entries], last

    def keep(row: Item) -> bool:
        first = next((b for b in buckets if b in row.get("_entries", {})), None)
        return bool(row and row["status"] == status and first == row["_bucket"])

    return pages.collect_rows(
        fetch,
        rows,
        partitions=len(parts),
        cursor=pages.decode(after, len(parts)),
        limit=limit,
        keep=keep,
        key_names=("pk", "sk", "gsi5pk", "gsi5sk"),
    )


def _with_entries(built: list[Item], entries: list[Item]) -> list[Item]:
    """One row per entry one read of the index gave (``entries``, of one bucket, in index order):
    the row built for its customer when the entry is that of the row's own item in the bucket,
    else {} (so a row is listed at one place in the whole listing: a customer with two items in
    a bucket is listed at the one the row shows)."""
    built_for = {row["customer_id"]: row for row in built}
    rows = []
    for e in entries:
        row = built_for.get(keys.customer_of_view(e))
        own = row is not None and row["_entries"].get(e["_bucket"]) == _key(e)
        rows.append({**row, "_bucket": e["_bucket"]} if row is not None and own else {})
    return rows


def _shown(row: Item) -> Item:
    """A row without what only the listing used."""
    return {k: v for k, v in row.items() if not k.startswith("_")}
