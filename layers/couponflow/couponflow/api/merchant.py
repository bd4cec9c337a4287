"""Every merchant route, wired to its services: the merchant API function's routers, and the
OpenAPI document's (``api/openapi.py``), from one list.

The merchant API function loads a router when a request first needs it (``OnFirstRequest``):
a cold start serves one request, which needs one or two of the fourteen routers, so it imports
those modules and builds their models and routes alone (the whole set cost the function 0.3 s of
import on this machine). Which routers serve a path is told by the path's first segment
(``ROUTERS_BY_PREFIX``); a test checks the map against every route the routers declare, so a
route added under a new prefix fails the test until the map names it. A path no prefix names
loads nothing and gets the resolver's 404, as it did when every router was loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api import on_first_request
from couponflow.api.on_first_request import service as _service
from couponflow.settings.merchant_api import MerchantApiSettings, SendScheduleSettings


@dataclass(frozen=True)
class Wiring:
    """What the merchant routers are built from: the function's settings, and its tables."""

    settings: MerchantApiSettings
    schedule: SendScheduleSettings

    @cached_property
    def table(self) -> Table:
        return Table(self.settings.table_name)

    @cached_property
    def events_table(self) -> Table:
        return Table(self.settings.events_table_name)


# A router's builder takes its module (``couponflow.api.<name>``, imported on first use) and the
# wiring, and calls the module's ``build`` with the services it takes.
Builder = Callable[[Any, Wiring], Any]


def _on_table(module: Any, w: Wiring) -> Any:
    return module.build(w.table)


def _code_imports(module: Any, w: Wiring) -> Any:
    s = w.settings
    imports = _service("code_imports", "CodeImports")(w.table, s.code_import_bucket, s.code_import_queue_url)
    return module.build(imports)


def _customers(module: Any, w: Wiring) -> Any:
    return module.build(w.table, w.events_table)


def _customer_imports(module: Any, w: Wiring) -> Any:
    return module.build(
        _service("customer_imports", "CustomerImports")(w.table, w.settings.code_import_bucket)
    )


def _redemptions(module: Any, w: Wiring) -> Any:
    return module.build(_service("redemptions", "Redemptions")(w.table))


def _integrations(module: Any, w: Wiring) -> Any:
    s = w.settings
    return module.build(w.table, s.secret_name_prefix, allow_private_hosts=s.allow_private_provider_hosts)


def _settings(module: Any, w: Wiring) -> Any:
    return module.build(w.table, allow_private_hosts=w.settings.allow_private_provider_hosts)


def _sends(module: Any, w: Wiring) -> Any:
    return module.build(_service("sends", "scheduler_from")(w.table, w.schedule))


def _exports(module: Any, w: Wiring) -> Any:
    s = w.settings
    jobs = _service("export_jobs", "ExportJobs")(w.table, s.code_import_bucket, s.code_import_queue_url)
    return module.build(w.table, jobs)


# Every router, in the order they are included (the order the OpenAPI document lists them in).
BUILDERS: dict[str, Builder] = {
    "merchant_campaigns": _on_table,
    "merchant_campaign_admin": _on_table,
    "merchant_code_imports": _code_imports,
    "merchant_customers": _customers,
    "merchant_suppressions": _on_table,
    "merchant_settings": _settings,
    "merchant_redemptions": _redemptions,
    "merchant_integrations": _integrations,
    "merchant_customer_admin": _on_table,
    "merchant_customer_imports": _customer_imports,
    "merchant_segments": _on_table,
    "merchant_sends": _sends,
    "merchant_lists": _on_table,
    "merchant_exports": _exports,
}

_LISTS = "merchant_lists"  # the list screens: GET /customers, /campaigns, /segments, /sends and below
ROUTERS_BY_PREFIX: dict[str, tuple[str, ...]] = {
    "campaigns": (
        "merchant_campaigns",
        "merchant_campaign_admin",
        "merchant_code_imports",
        "merchant_suppressions",  # GET /campaigns/{id}/stats: the bounce and complaint rates
        _LISTS,
    ),
    "customers": ("merchant_customers", "merchant_customer_admin", "merchant_customer_imports", _LISTS),
    "suppressions": ("merchant_suppressions",),
    "settings": ("merchant_settings",),
    "redemptions": ("merchant_redemptions",),
    "integrations": ("merchant_integrations",),
    "segments": ("merchant_segments", _LISTS),
    "sends": ("merchant_sends", _LISTS),
    "exports": ("merchant_exports",),
    "export-jobs": ("merchant_exports",),
}


def build(name: str, wiring: Wiring) -> APIGatewayRouter:
    return on_first_request.build(BUILDERS, name, wiring)


def routers(settings: MerchantApiSettings, schedule: SendScheduleSettings) -> list[APIGatewayRouter]:
    """Every merchant router, built at once (the OpenAPI document's)."""
    wiring = Wiring(settings, schedule)
    return [build(name, wiring) for name in BUILDERS]


def prefix_of(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


class OnFirstRequest(on_first_request.RoutersOnFirstRequest):
    """Includes in ``app`` the routers a request's path needs, each the first time one does."""

    def __init__(self, app: APIGatewayRestResolver, wiring: Wiring) -> None:
        super().__init__(app, BUILDERS, wiring)

    def include_for(self, path: str) -> None:
        self.include(ROUTERS_BY_PREFIX.get(prefix_of(path), ()))
