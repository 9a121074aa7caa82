"""Listening sessions recorded from the station room through the whole ASGI
stack: who is recorded, what is kept, when it is written."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from radio.asgi import application
from stations.statistics.models import ClientKind, ListeningSession, Transport
from stations.statistics.privacy import address_hash, stats_salt
from stations.statistics.recorder import get_recorder

from ..clients import room_path
from ..conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

VLC = b"VLC/3.0.21 LibVLC/3.0.21"
CLIENT_ADDRESS = "203.0.113.7"


async def from_address(scope, receive, send):
    """The application, reached from CLIENT_ADDRESS as daphne tells it."""
    return await application(
        {**scope, "client": [CLIENT_ADDRESS, 50000]}, receive, send
    )


@pytest.fixture(autouse=True)
def record_every_session(settings):
    settings.RADIO_STATS_MIN_SESSION_SECONDS = 0
    settings.RADIO_STATS_FLUSH_SECONDS = 60


async def listen(path: str, persona, user_agent: bytes = VLC) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        from_address,
        path,
        headers=[*persona.headers(), (b"user-agent", user_agent)],
    )
    connected, _ = await communicator.connect()
    assert connected
    await communicator.receive_from()  # hello
    return communicator


async def stored() -> list[ListeningSession]:
    return [s async for s in ListeningSession.objects.select_related("station")]


async def test_a_listeners_session_is_written_with_what_is_known_of_them(
    station_runtime, station, listener
):
    """Station, times, duration, transport, client kind, user, hashed address."""
    before = time.time()
    room = await listen(room_path(STATION_SLUG), listener)
    await room.disconnect()
    assert await stored() == []  # not before the flush

    assert await get_recorder().flush() == 1

    [session] = await stored()
    user = await get_user_model().objects.aget(username="listener")
    assert session.station.slug == STATION_SLUG
    assert session.transport == Transport.WEBSOCKET
    assert session.client_kind == ClientKind.VLC
    assert session.user_id == user.pk
    assert session.address_hash == address_hash(CLIENT_ADDRESS, stats_salt())
    assert before <= session.started_at.timestamp() <= session.ended_at.timestamp()
    assert session.ended_at.timestamp() <= time.time()
    span = (session.ended_at - session.started_at).total_seconds()
    assert session.duration_s == pytest.approx(span, abs=0.05)


async def test_an_anonymous_listener_has_no_user(station_runtime, station, anonymous):
    room = await listen(room_path(STATION_SLUG), anonymous, b"Mozilla/5.0 (X11) Gecko")
    await room.disconnect()
    await get_recorder().flush()
    [session] = await stored()
    assert session.user_id is None
    assert session.client_kind == ClientKind.BROWSER


async def test_a_djs_console_is_not_a_listener(station_runtime, station, dj):
    """The broadcast socket joins the station but records no session."""
    studio = WebsocketCommunicator(
        application, f"/ws/stations/{STATION_SLUG}/broadcast/", headers=dj.headers()
    )
    assert (await studio.connect())[0]
    await studio.receive_from()
    await studio.disconnect()
    assert await get_recorder().flush() == 0
    assert await stored() == []


async def test_nothing_is_recorded_when_statistics_are_off(
    station_runtime, station, anonymous, settings
):
    settings.RADIO_STATS_ENABLED = False
    room = await listen(room_path(STATION_SLUG), anonymous)
    await room.disconnect()
    assert await get_recorder().flush() == 0


async def test_sessions_shorter_than_the_minimum_are_dropped(
    station_runtime, station, anonymous, settings
):
    settings.RADIO_STATS_MIN_SESSION_SECONDS = 60
    room = await listen(room_path(STATION_SLUG), anonymous)
    await room.disconnect()
    assert await get_recorder().flush() == 0


async def test_sessions_are_written_together_after_the_flush_interval(
    station_runtime, station, anonymous, settings
):
    """Three sessions closed within the interval are written by itself, at once."""
    settings.RADIO_STATS_FLUSH_SECONDS = 0.3
    rooms = [await listen(room_path(STATION_SLUG), anonymous) for _ in range(3)]
    for room in rooms:
        await room.disconnect()
    assert await ListeningSession.objects.acount() == 0
    async with asyncio.timeout(5):
        while await ListeningSession.objects.acount() < 3:
            await asyncio.sleep(0.05)


async def test_open_sessions_are_closed_and_written_at_shutdown(
    station_runtime, station, anonymous
):
    """A server that stops writes the sessions still open, ended then."""
    room = await listen(room_path(STATION_SLUG), anonymous)
    assert get_recorder().open_count == 1

    assert await get_recorder().shutdown() == 1

    assert get_recorder().open_count == 0
    [session] = await stored()
    assert session.duration_s >= 0
    await room.disconnect()
    # Leaving after the shutdown's write adds nothing.
    assert await get_recorder().flush() == 0
