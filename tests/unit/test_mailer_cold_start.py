"""The mailer's cold start loads what every batch needs; giving a dropped email's code back
(the claims store) loads with the first drop."""

from __future__ import annotations

import json
import subprocess
import sys

LISTED = (
    "import json, sys; import couponflow.services.mailer; "
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('couponflow'))))"
)


def test_importing_the_mailer_loads_neither_the_release_nor_the_claims_store() -> None:
    started = subprocess.run(
        [sys.executable, "-c", LISTED], capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode == 0, started.stderr
    loaded = set(json.loads(started.stdout.splitlines()[-1]))

    assert "couponflow.services.link_signer" in loaded  # every batch signs its coupon links
    assert loaded.isdisjoint(
        {"couponflow.services.release", "couponflow.store.claims", "couponflow.store.claim_progress"}
    )
