"""Encoders' logins: a station with a source password, DJs with passwords,
fast hashing, and stations on air."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from stations.models import Station
from stations.runtime import get_bus
from stations.streaming.bus import LIVE, Claim, Lease
from stations.streaming.producer import Producer

SOURCE_PASSWORD = "hackme-source"
DJ_PASSWORD = "dj-password-1"
# Addresses from the documentation ranges (RFC 5737).
ADDRESS = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Many logins: a real hasher would take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sourced_station(station) -> Station:
    """``station`` with the source password SOURCE_PASSWORD."""
    station.set_source_password(SOURCE_PASSWORD)
    station.save()
    return station


def make_user(username: str, **fields):
    return get_user_model().objects.create_user(
        username, password=DJ_PASSWORD, **fields
    )


@pytest.fixture
def dj_user(station):
    """A DJ of ``station``, who logs in with DJ_PASSWORD."""
    user = make_user("dee")
    station.djs.add(user)
    return user


async def go_on_air(station: Station, *, kind: str = LIVE, packets: int = 3) -> None:
    """Put ``station`` on air from a producer of ``kind`` that has published
    ``packets`` audio packets, seq 1 to ``packets``."""
    lease = Lease(station_id=station.pk, token=uuid.uuid4().hex, user_id=1, kind=kind)
    producer = Producer(get_bus(), lease)
    assert await producer.claim() is Claim.GRANTED
    assert await producer.go_on_air()
    for _ in range(packets):
        assert await producer.publish_audio(b"\xff\xfb", 26.0, 0)
