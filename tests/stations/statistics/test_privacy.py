"""The listener's address as a salted hash."""

from __future__ import annotations

import hashlib

from stations.statistics.privacy import address_hash, stats_salt


def test_the_hash_is_stable_for_one_salt_and_differs_by_address():
    """One address and salt give one hash; another address another."""
    salt = b"salt"
    assert address_hash("203.0.113.7", salt) == address_hash("203.0.113.7", salt)
    assert address_hash("203.0.113.7", salt) != address_hash("203.0.113.8", salt)


def test_the_hash_is_salted_and_not_the_address():
    """Without the salt the address cannot be found by hashing candidates."""
    address = "203.0.113.7"
    hashed = address_hash(address, b"salt")
    assert address not in hashed
    assert hashed != hashlib.sha256(address.encode()).hexdigest()
    assert hashed != address_hash(address, b"other salt")
    assert len(hashed) == 64


def test_no_address_has_no_hash():
    """A connection without a known address is not one unique listener."""
    assert address_hash("", b"salt") == ""


def test_the_salt_comes_from_the_setting_or_the_secret_key(settings):
    """RADIO_STATS_SALT is used when set; otherwise it derives from SECRET_KEY."""
    settings.RADIO_STATS_SALT = ""
    derived = stats_salt()
    assert derived != settings.SECRET_KEY.encode()
    settings.SECRET_KEY = "another-secret-key"
    assert stats_salt() != derived
    settings.RADIO_STATS_SALT = "pepper"
    assert stats_salt() == b"pepper"
