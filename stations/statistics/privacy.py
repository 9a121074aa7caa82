"""A listener's address, kept only as a salted hash.

The hash tells sessions from the same address apart from others (unique
listeners) without keeping the address: HMAC-SHA256 with a secret salt,
so it cannot be reversed by hashing every IPv4 address.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def stats_salt() -> bytes:
    """``RADIO_STATS_SALT``, or one derived from ``SECRET_KEY`` without it."""
    if settings.RADIO_STATS_SALT:
        return settings.RADIO_STATS_SALT.encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"radio.statistics.salt", hashlib.sha256
    ).digest()


def address_hash(address: str, salt: bytes) -> str:
    """The hex HMAC-SHA256 of ``address`` under ``salt``; empty for no address."""
    if not address:
        return ""
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()
