"""The claim path's cached answer to "does this merchant have an email provider?".

Apart from ``email_provider.py`` (connecting, the credentials, the provider's client), so a claim
function's cold start loads only the lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from couponflow.adapters.dynamodb import Table
from couponflow.store import integrations


@dataclass
class ProviderDirectory:
    """Per warm container: whether a merchant has a provider, remembered for ``ttl_seconds``.

    The claim path asks only for new claims with marketing consent, so a flash sale costs at
    most one GetItem per merchant per container per ``ttl_seconds``. A stale "yes" after a
    disconnect is harmless (the sync job re-reads the connection and clears the claim); a stale
    "no" after a connect delays the first synced claims by at most ``ttl_seconds``.
    """

    table: Table
    ttl_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[float, bool]] = field(default_factory=dict)

    def connected(self, merchant_id: str) -> bool:
        now = self.clock()
        cached = self._seen.get(merchant_id)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return cached[1]
        found = integrations.get_connection(self.table, merchant_id, consistent=False) is not None
        self._seen[merchant_id] = (now, found)
        return found
