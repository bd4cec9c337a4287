"""Disposable (throwaway) email domains, for campaigns that refuse them.

The list is the community-maintained disposable-email-domains project, shipped on PyPI as the
``disposable-email-domains`` package (a plain set of ~10,000 domains, a few hundred KB, released
every few weeks); it is a layer dependency, so updating it is a version bump and a deploy. A
subdomain of a listed domain counts as listed; the project's allowlist always wins.

The list loads with the first address checked, not with the module: the claim function imports
this module at every cold start, and most campaigns do not refuse throwaway addresses (building
the set would be a few ms of every cold start).
"""

from __future__ import annotations


def is_disposable(normalized_email: str) -> bool:
    from disposable_email_domains import allowlist, blocklist  # noqa: PLC0415 (see above)

    domain = normalized_email.rpartition("@")[2].lower()
    labels = domain.split(".")
    candidates = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return not (candidates & allowlist) and bool(candidates & blocklist)
