"""The station sockets when the station bus (Redis) is away or slow.

The bus here is the in-process one, made to fail or stall as a RedisBus
does without Redis (``BusUnavailable``) or with a slow one; the real
outage is tests/live/test_redis_restart.py.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import channel_layers

from radio import protocol
from stations.models import ChatMessage
from stations.runtime import get_bus
from stations.streaming.bus import LIVE, BusUnavailable, LocalBus
from stations.streaming.packets import Event

from .clients import go_live, receive_close, receive_type
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bus_away(monkeypatch):
    """The bus says it is unavailable, and refuses to publish chat."""
    monkeypatch.setattr(LocalBus, "available", property(lambda self: False))


async def test_chat_while_the_bus_is_away_is_refused_and_not_stored(
    sockets, station, listener, bus_away
):
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "chat", "text": "anyone?"})
    assert (await receive_type(room, "error"))["code"] == protocol.UNAVAILABLE
    assert not await ChatMessage.objects.filter(station=station).aexists()


async def test_chat_whose_publish_fails_answers_unavailable_and_goes_on(
    sockets, station, listener, monkeypatch
):
    """Redis going away as chat is sent: the sender is told, and the socket
    stays open, its next message sent once the bus is back."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    bus = get_bus()
    publish = bus.publish
    failing = True

    async def flaky_publish(station_id, item, *, lease=None):
        if failing and isinstance(item, Event) and item.type == protocol.CHAT:
            raise BusUnavailable("Connection refused")
        return await publish(station_id, item, lease=lease)

    monkeypatch.setattr(bus, "publish", flaky_publish)
    await room.send_json_to({"type": "chat", "text": "first"})
    assert (await receive_type(room, "error"))["code"] == protocol.UNAVAILABLE
    failing = False
    await room.send_json_to({"type": "chat", "text": "second"})
    assert (await receive_type(room, "chat"))["text"] == "second"


async def test_a_slow_publish_does_not_hold_the_database_thread(
    sockets, station, listener, anonymous, monkeypatch
):
    """While chat waits on a slow bus, other sockets still sign in and join
    (their queries run in the one database thread every socket shares)."""
    sender, _ = await sockets.join(STATION_SLUG, listener)
    bus = get_bus()
    publish = bus.publish
    gate = asyncio.Event()

    async def slow_publish(station_id, item, *, lease=None):
        if isinstance(item, Event) and item.type == protocol.CHAT:
            await gate.wait()
        return await publish(station_id, item, lease=lease)

    monkeypatch.setattr(bus, "publish", slow_publish)
    await sender.send_json_to({"type": "chat", "text": "slowly"})
    other, hello = await sockets.join(STATION_SLUG, anonymous)
    assert hello["type"] == protocol.HELLO
    gate.set()
    assert (await receive_type(other, "chat"))["text"] == "slowly"


async def test_a_room_socket_joins_without_the_channel_layer(
    sockets, station, listener, monkeypatch
):
    """Listening takes nothing of the channel layer (a Redis SUBSCRIBE per
    socket with channels-redis), so it works while the layer is down."""
    layer = channel_layers["default"]

    async def down(*args, **kwargs):
        raise ConnectionError("the channel layer is down")

    for method in ("new_channel", "group_add", "receive"):
        monkeypatch.setattr(layer, method, down)
    _room, hello = await sockets.join(STATION_SLUG, listener)
    assert hello["user"] == listener.username


async def test_a_dj_whose_station_was_taken_is_told_and_closed_4409(
    sockets, station, dj
):
    """The lease lost (another DJ holds the station after the bus forgot the
    DJ's): ``taken_over`` and 4409, not audio silently refused."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    bus = get_bus()
    held, _ = bus._current(station.pk)
    await bus.release(held)
    other = type(held)(station_id=station.pk, token="other", user_id=0, kind=LIVE)
    await bus.claim(other, ttl_s=60)
    error = await receive_type(studio, "error", timeout=10)
    assert error["code"] == protocol.TAKEN_OVER
    assert await receive_close(studio) == protocol.CLOSE_DJ_ALREADY_LIVE
