"""Disposable email domains (the disposable-email-domains package's list)."""

from __future__ import annotations

from couponflow.domain.disposable_emails import is_disposable


def test_disposable_domains_and_their_subdomains_are_recognised():
    assert is_disposable("a@mailinator.com") and is_disposable("a@inbox.mailinator.com")
    assert not is_disposable("a@gmail.com") and not is_disposable("a@shop.example.com")
