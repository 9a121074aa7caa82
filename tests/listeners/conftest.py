"""Personas and inbox sockets for the inbox consumer tests.

Alice's username holds ``+``, ``@`` and ``.``, which channel-layer group
names may not; bob and carol are plain listeners; dee is a DJ of Test FM.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from stations.models import Station

from .clients import InboxSockets, Persona

STATION_SLUG = "test-fm"


def signed_in(username: str) -> tuple[Any, Persona]:
    """A new user and a persona carrying that user's session cookie."""
    user = get_user_model().objects.create_user(username, password=None)
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return user, Persona(username, f"{settings.SESSION_COOKIE_NAME}={session}")


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
