"""The claim function includes the claim router at import and loads the others (coupon links, page
views, send reports) by the first request's resource: the map that says which router serves a
resource must name every public route the template declares, and only the routes of that router."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from couponflow.adapters.dynamodb import Table
from couponflow.api import public, public_claims
from couponflow.services.claims import ClaimService

from tests.template.cfn_model import load_template

CLAIM = "/public/merchants/{merchantId}/campaigns/{campaignId}/claims"
LINK = "/public/merchants/{merchantId}/coupons/{token}"
FUNCTION = Path(__file__).resolve().parents[2] / "functions" / "claim"


def _wiring() -> public.Wiring:
    return public.Wiring(Table("table"), "secret", "bucket")


def _shape(path: str) -> str:
    """A route with its variables unnamed: the template writes ``{name}``, Powertools ``<name>``."""
    return re.sub(r"[{<][^}>]+[}>]", "{}", path)


def _routes(app: APIGatewayRestResolver) -> list[tuple[str, str]]:
    return [(route.method, route.path) for route in app._static_routes + app._dynamic_routes]


def _claim_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.include_router(public_claims.build(ClaimService(Table("table"), "https://queue"), "secret"))
    return app


def test_the_map_names_every_route_the_template_gives_the_claim_function():
    events = load_template()["Resources"]["ClaimFunction"]["Properties"]["Events"]
    paths = {event["Properties"]["Path"] for event in events.values() if event["Type"] == "Api"}
    assert set(public.ROUTERS_BY_RESOURCE) == paths


def test_each_router_declares_exactly_the_routes_the_map_gives_it():
    declared = {
        _shape(path): name for name in public.BUILDERS for path, *_ in public.build(name, _wiring())._routes
    }
    claims = public_claims.build(ClaimService(Table("table"), "https://queue"), "secret")
    declared |= {_shape(path): public.CLAIMS for path, *_ in claims._routes}
    assert {_shape(resource): name for resource, name in public.ROUTERS_BY_RESOURCE.items()} == declared


def test_a_claim_loads_no_other_router_and_a_link_loads_its_own_once():
    app = _claim_app()
    routes = public.OnFirstRequest(app, _wiring())
    count = len(_routes(app))

    routes.include_for(CLAIM)
    assert routes.loaded == {public.CLAIMS}
    assert len(_routes(app)) == count

    routes.include_for(LINK)
    routes.include_for("/public/unsubscribe/{token}")
    assert routes.loaded == {public.CLAIMS, "public_links"}
    assert ("GET", "/public/merchants/<merchant_id>/coupons/<token>") in _routes(app)
    assert not any(path.startswith("/public/reports") for _, path in _routes(app))
    assert len(_routes(app)) == len(set(_routes(app)))  # none included twice


def test_an_event_naming_no_known_resource_loads_every_router():
    app = _claim_app()
    routes = public.OnFirstRequest(app, _wiring())

    routes.include_for(None)
    routes.include_for("/no/such/route")

    assert routes.loaded == {public.CLAIMS, *public.BUILDERS}
    assert {_shape(path) for _, path in _routes(app)} == {_shape(r) for r in public.ROUTERS_BY_RESOURCE}
    assert len(_routes(app)) == len(set(_routes(app)))


def test_a_claim_functions_cold_start_imports_the_claim_path_and_not_the_other_routes():
    """In a fresh process, as on Lambda: the handler module alone, with the template's settings."""
    environment = {
        "PATH": os.environ["PATH"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": "table",
        "MAIL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/mail",
        "LINK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:link",
        "REPORT_BUCKET": "reports",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    listed = (
        "import json, sys, app; "
        "print(json.dumps(sorted(m for m in sys.modules if 'couponflow' in m or 'disposable' in m)))"
    )
    started = subprocess.run(
        [sys.executable, "-c", listed],
        cwd=FUNCTION,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    loaded = set(json.loads(started.stdout.splitlines()[-1]))

    assert {"couponflow.api.public_claims", "couponflow.services.claims"} <= loaded
    not_loaded = {
        "couponflow.api.public_links",
        "couponflow.services.coupon_links",  # following links: the claim only signs one (link_signer)
        "couponflow.api.public_page_views",
        "couponflow.api.public_reports",
        "couponflow.services.send_reports",
        "couponflow.services.email_provider",  # the provider's client: the claim asks the directory
        "couponflow.models.api",  # the merchant API's models
        "disposable_email_domains",  # the throwaway domains: loaded by the first address checked
    }
    assert not_loaded.isdisjoint(loaded)
    assert {m for m in loaded if m.startswith("couponflow.settings")} == {
        "couponflow.settings",
        "couponflow.settings.claim",  # its own settings model, none of the other functions'
    }
