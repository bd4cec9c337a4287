"""The merchant API loads its routers on first request, by the path's first segment: the map that
says which routers serve a prefix must name every router that declares a route under it."""

from __future__ import annotations

from collections import defaultdict

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from couponflow.api import merchant
from couponflow.settings.merchant_api import MerchantApiSettings, SendScheduleSettings

PLACEHOLDERS = {
    "TABLE_NAME": "table",
    "EVENTS_TABLE_NAME": "events",
    "CODE_IMPORT_BUCKET": "bucket",
    "CODE_IMPORT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
}
SCHEDULE = {
    "SEND_SCHEDULE_GROUP": "group",
    "SEND_STARTER_ARN": "arn:aws:lambda:us-east-1:123456789012:function:s",
    "SEND_SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
    "SEND_SCHEDULE_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:d",
    "PUBLIC_BASE_URL": "http://127.0.0.1:3000/v1",
}


def _wiring() -> merchant.Wiring:
    return merchant.Wiring(
        MerchantApiSettings.model_validate(PLACEHOLDERS), SendScheduleSettings.model_validate(SCHEDULE)
    )


def _routes(app: APIGatewayRestResolver) -> list[tuple[str, str]]:
    """(method, path) of every route the resolver has, once per time it was included."""
    return [(route.method, route.path) for route in app._static_routes + app._dynamic_routes]


def _rules(app: APIGatewayRestResolver) -> set[tuple[str, str]]:
    return set(_routes(app))


def test_each_prefix_names_exactly_the_routers_with_a_route_under_it():
    declared: dict[str, set[str]] = defaultdict(set)
    for name in merchant.BUILDERS:
        for key in merchant.build(name, _wiring())._routes:
            declared[merchant.prefix_of(key[0])].add(name)
    assert {prefix: set(names) for prefix, names in merchant.ROUTERS_BY_PREFIX.items()} == declared


def test_a_first_request_loads_the_routers_of_its_prefix_and_no_other():
    app = APIGatewayRestResolver(enable_validation=True)
    routes = merchant.OnFirstRequest(app, _wiring())

    routes.include_for("/sends/s-1/recipients")

    assert routes.loaded == {"merchant_sends", "merchant_lists"}
    assert ("GET", "/sends/<send_id>") in _rules(app)
    assert ("GET", "/segments") in _rules(app)  # the lists router came whole
    assert not any(rule.startswith("/customers/<") for _, rule in _rules(app))


def test_later_requests_add_what_they_need_once_and_an_unknown_prefix_loads_nothing():
    app = APIGatewayRestResolver(enable_validation=True)
    routes = merchant.OnFirstRequest(app, _wiring())
    routes.include_for("/segments/g-1")
    count = len(_routes(app))

    routes.include_for("/segments/g-2/members")
    routes.include_for("/no-such-thing/x")
    assert len(_routes(app)) == count

    routes.include_for("/campaigns/c-1")  # the lists router is in already: not included twice
    every = APIGatewayRestResolver(enable_validation=True)
    for router in merchant.routers(_wiring().settings, _wiring().schedule):
        every.include_router(router)
    under = {(m, r) for m, r in _rules(every) if merchant.prefix_of(r) in ("segments", "campaigns")}
    assert under <= _rules(app)
    assert len(_routes(app)) == len(_rules(app))  # none included twice
    assert sorted(routes.loaded) == sorted(
        set(merchant.ROUTERS_BY_PREFIX["segments"]) | set(merchant.ROUTERS_BY_PREFIX["campaigns"])
    )
