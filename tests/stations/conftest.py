"""Personas and sockets shared by the consumer tests.

A station with two DJs, another station with its own DJ, a signed-in
listener and an anonymous one, as in healthchecks' alice/bob/charlie.
"""

from __future__ import annotations

import asyncio

import pytest

from stations import runtime
from stations.models import Station
from stations.runtime import get_bus
from tests.support.personas import Persona, signed_in

from .clients import Sockets

STATION_SLUG = "test-fm"
OTHER_STATION_SLUG = "other-fm"


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug=STATION_SLUG, name="Test FM")


@pytest.fixture
def other_station(transactional_db) -> Station:
    return Station.objects.create(slug=OTHER_STATION_SLUG, name="Other FM")


@pytest.fixture
def dj(station) -> Persona:
    """A DJ of ``station``."""
    user, persona = signed_in("dj")
    station.djs.add(user)
    return persona


@pytest.fixture
def co_dj(station) -> Persona:
    """A second DJ of ``station``."""
    user, persona = signed_in("co-dj")
    station.djs.add(user)
    return persona


@pytest.fixture
def other_dj(other_station) -> Persona:
    """A DJ of ``other_station`` only."""
    user, persona = signed_in("other-dj")
    other_station.djs.add(user)
    return persona


@pytest.fixture
def listener(transactional_db) -> Persona:
    """A signed-in user who is nobody's DJ."""
    return signed_in("listener")[1]


@pytest.fixture
def anonymous() -> Persona:
    return Persona()


@pytest.fixture
def persona(request) -> Persona:
    """The persona fixture named by an indirect ``persona`` parameter."""
    return request.getfixturevalue(request.param)


# How long a test's background work may take to finish after the test.
BACKGROUND_WAIT_S = 10


@pytest.fixture(autouse=True)
async def station_runtime():
    """End what a test's event loop holds: its station bus and stray tasks.

    The runtime keeps one bus per event loop, and each test has its own
    loop; a dropped DJ's grace period may still be running at the end.
    Work run in the background (the play history's writes) is let finish
    first: cancelled, its thread would go on writing while the test's
    database is emptied, and PostgreSQL may take that for a deadlock.
    """
    yield
    loop = asyncio.get_running_loop()
    started = [task for task in runtime._background if task.get_loop() is loop]
    if started:
        await asyncio.wait(started, timeout=BACKGROUND_WAIT_S)
    await get_bus().aclose()
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


@pytest.fixture
async def sockets(station_runtime):
    """Opens sockets on the real ASGI application; closes them afterwards."""
    opened = Sockets()
    yield opened
    await opened.close_all()
