"""Personas and inbox sockets for the inbox consumer tests.

Alice's username holds ``+``, ``@`` and ``.``, which channel-layer group
names may not; bob and carol are plain listeners; dee is a DJ of Test FM.
"""

from __future__ import annotations

import pytest

from stations.models import Station
from tests.support.personas import Persona, signed_in

from .clients import InboxSockets

STATION_SLUG = "test-fm"


@pytest.fixture
def alice(transactional_db) -> Persona:
    return signed_in("a+b@example.com")[1]


@pytest.fixture
def bob(transactional_db) -> Persona:
    return signed_in("bob")[1]


@pytest.fixture
def carol(transactional_db) -> Persona:
    return signed_in("carol")[1]


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug=STATION_SLUG, name="Test FM")


@pytest.fixture
def dee(station) -> Persona:
    """A DJ of ``station``."""
    user, persona = signed_in("dee")
    station.djs.add(user)
    return persona


@pytest.fixture
async def sockets():
    opened = InboxSockets()
    yield opened
    await opened.close_all()
