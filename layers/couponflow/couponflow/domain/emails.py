"""Email addresses as customers type them: validated and normalised to one canonical form."""

from __future__ import annotations

import re

MAX_EMAIL_LENGTH = 254
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")


class InvalidEmail(ValueError):
    """The address cannot be delivered to as written."""


def normalize_email(raw: str) -> str:
    """Trim, lower-case and validate an address; raises :class:`InvalidEmail` with the reason.

    The whole address is lower-cased: mailbox providers treat local parts case-insensitively in
    practice, and one customer typing ``Ann@Shop.com`` and ``ann@shop.com`` must get one claim.
    Sub-addresses (``+tag``) are kept: they are distinct mailboxes as far as the merchant knows.
    """
    email = raw.strip().lower()
    if not email:
        raise InvalidEmail("email is empty")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"email is longer than {MAX_EMAIL_LENGTH} characters")
    if email.count("@") != 1:
        raise InvalidEmail("email must contain exactly one @")
    local, _, domain = email.partition("@")
    if len(local) > 64:
        raise InvalidEmail("the part before @ is longer than 64 characters")
    if not _EMAIL.match(email):
        raise InvalidEmail(f"'{raw.strip()}' is not a valid email address")
    if domain.endswith("."):
        raise InvalidEmail("email domain ends with a dot")
    return email


def email_domain(email: str) -> str:
    return email.rpartition("@")[2]
