"""A Berlin station with two DJs and a stranger, for the programme's tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from stations.models import Station

User = get_user_model()


@pytest.fixture
def berlin(db) -> Station:
    return Station.objects.create(
        slug="berlin-fm", name="Berlin FM", timezone="Europe/Berlin"
    )


@pytest.fixture
def host(berlin):
    user = User.objects.create_user("host", password="pw")
    berlin.djs.add(user)
    return user


@pytest.fixture
def co_host(berlin):
    user = User.objects.create_user("co-host", password="pw")
    berlin.djs.add(user)
    return user


@pytest.fixture
def stranger(db):
    """A user who is no DJ of the station."""
    return User.objects.create_user("stranger", password="pw")
