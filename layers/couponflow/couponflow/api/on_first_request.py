"""Routers included in a resolver the first time a request needs each: the merchant API's
(``api/merchant.py``, told by the path's first segment) and the claim function's
(``api/public.py``, told by API Gateway's resource). A cold start imports, and builds the routes
and models of, its own request's routers alone.

A router ``name`` lives in ``couponflow.api.<name>``; its builder takes that module (imported on
first use) and the function's wiring, and calls the module's ``build`` with the services it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

Builders = Mapping[str, Callable[[Any, Any], Any]]


def build(builders: Builders, name: str, wiring: Any) -> APIGatewayRouter:
    router: APIGatewayRouter = builders[name](import_module(f"couponflow.api.{name}"), wiring)
    return router


def service(module: str, name: str) -> Any:
    """``couponflow.services.<module>.<name>``, imported when a router's builder first needs it."""
    return getattr(import_module(f"couponflow.services.{module}"), name)


class RoutersOnFirstRequest:
    """Includes in ``app`` each router of ``builders`` the first time a request needs it."""

    def __init__(
        self, app: APIGatewayRestResolver, builders: Builders, wiring: Any, *, loaded: Iterable[str] = ()
    ) -> None:
        self._app = app
        self._builders = builders
        self._wiring = wiring
        self.loaded: set[str] = set(loaded)  # included, whether here or by the function itself

    def include(self, names: Iterable[str]) -> None:
        """Include those of ``names`` not in ``app`` yet, in the order ``builders`` lists them."""
        order = list(self._builders)
        for name in sorted(set(names) - self.loaded, key=order.index):
            self._app.include_router(build(self._builders, name, self._wiring))
            self.loaded.add(name)
