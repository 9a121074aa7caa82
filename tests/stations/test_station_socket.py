"""The station room, ``/ws/stations/<slug>/``, as listeners see it."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from radio import protocol
from radio.asgi import application

from .clients import receive_close, receive_json, room_path
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

HELLO_FIELDS = {
    "type",
    "station",
    "on_air",
    "source",
    "broadcast",
    "now_playing",
    "listeners",
    "user",
    "format",
    "schedule",
}


async def receive_count(communicator) -> int:
    """The count of the next ``listeners`` message."""
    while (message := await receive_json(communicator, skip=()))["type"] != "listeners":
        pass
    return message["count"]


async def test_unknown_station_closes_4404(sockets, anonymous):
    """A room for a slug no station has is closed with 4404."""
    room = await sockets.connect(room_path("no-such-station"), anonymous)
    assert await receive_close(room) == protocol.CLOSE_NO_SUCH_STATION
    await room.disconnect(code=protocol.CLOSE_NO_SUCH_STATION)


@pytest.mark.parametrize(
    ("persona", "username"),
    [("listener", "listener"), ("anonymous", None)],
    indirect=["persona"],
)
async def test_hello_comes_first_with_the_protocol_fields(
    sockets, station, persona, username
):
    """The first message is ``hello`` with exactly the fields of PROTOCOL.md."""
    room = await sockets.connect(room_path(STATION_SLUG), persona)
    hello = json.loads(await room.receive_from())
    assert set(hello) == HELLO_FIELDS
    assert hello["type"] == "hello"
    assert hello["station"] == {"slug": STATION_SLUG, "name": "Test FM"}
    assert hello["on_air"] is False
    assert hello["schedule"] == {"now": None, "next": None}
    assert hello["source"] is None
    assert hello["now_playing"] is None
    assert isinstance(hello["listeners"], int)
    assert hello["user"] == username
    assert hello["format"] == {
        "codec": "mp3",
        "bitrate": station.bitrate,
        "sample_rate": 44100,
        "channels": 2,
    }
    await room.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param("{not json", id="malformed"),
        pytest.param('["chat", "hi"]', id="array"),
        pytest.param('{"text": "hi"}', id="no-type"),
        pytest.param('{"type": 7}', id="type-not-a-string"),
        pytest.param('{"type": "dance"}', id="unknown-type"),
    ],
)
async def test_bad_message_gets_bad_request_and_socket_stays_usable(
    sockets, station, anonymous, frame
):
    """A bad message gets ``bad_request`` and the socket keeps answering."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    await room.send_to(text_data=frame)
    error = await receive_json(room)
    assert error["type"] == "error"
    assert error["code"] == protocol.BAD_REQUEST
    assert error["message"]
    await room.send_to(text_data=frame)
    assert (await receive_json(room))["code"] == protocol.BAD_REQUEST
    await room.disconnect()


async def test_binary_from_a_listener_gets_bad_request(sockets, station, listener):
    """Audio sent to the station room is answered with ``bad_request``."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_to(bytes_data=b"\xff\xfb\x90\x00" * 100)
    error = await receive_json(room)
    assert (error["type"], error["code"]) == ("error", protocol.BAD_REQUEST)
    assert await room.receive_nothing()
    await room.disconnect()


async def test_text_frame_over_the_limit_closes_1009(sockets, station, anonymous):
    """A text frame over RADIO_MAX_TEXT_FRAME_BYTES closes the socket, 1009."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    padding = "x" * settings.RADIO_MAX_TEXT_FRAME_BYTES
    await room.send_json_to({"type": "chat", "text": padding})
    assert await receive_close(room) == protocol.CLOSE_MESSAGE_TOO_BIG
    await room.disconnect(code=protocol.CLOSE_MESSAGE_TOO_BIG)


async def test_text_frame_at_the_limit_is_read(sockets, station, anonymous):
    """A text frame of exactly RADIO_MAX_TEXT_FRAME_BYTES is still read."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    frame = json.dumps({"type": "dance", "pad": ""})
    frame = frame[:-2] + "x" * (settings.RADIO_MAX_TEXT_FRAME_BYTES - len(frame)) + '"}'
    assert len(frame.encode()) == settings.RADIO_MAX_TEXT_FRAME_BYTES
    await room.send_to(text_data=frame)
    assert (await receive_json(room))["code"] == protocol.BAD_REQUEST
    await room.disconnect()


async def test_listener_count_changes_are_announced(
    sockets, settings, station, anonymous, listener, dj
):
    """Count changes reach listeners and DJs; the DJ's console is not counted."""
    settings.RADIO_LISTENER_COUNT_INTERVAL_SECONDS = 0.1
    first, _ = await sockets.join(STATION_SLUG, anonymous)
    assert await receive_count(first) == 1
    studio = await sockets.studio(STATION_SLUG, dj)
    second, _ = await sockets.join(STATION_SLUG, listener)
    assert await receive_count(first) == 2
    assert await receive_count(studio) == 2
    await second.disconnect()
    assert await receive_count(first) == 1
    assert await receive_count(studio) == 1
    await studio.disconnect()
    await first.disconnect()


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example"]
)
async def test_foreign_origin_is_rejected(sockets, station, anonymous, origin):
    """A WebSocket from a page on another host is refused before accept."""
    room = sockets.open(room_path(STATION_SLUG), anonymous, origin=origin)
    connected, _ = await room.connect()
    assert connected is False
    await room.disconnect()


async def test_missing_origin_is_rejected(station):
    """A WebSocket without an Origin header is refused before accept."""
    room = WebsocketCommunicator(application, room_path(STATION_SLUG))
    connected, _ = await room.connect()
    assert connected is False
    await room.disconnect()


async def test_hello_counts_the_new_listener(sockets, station, anonymous, listener):
    """``hello`` counts everyone listening, the new listener included."""
    _, first_hello = await sockets.join(STATION_SLUG, anonymous)
    _, second_hello = await sockets.join(STATION_SLUG, listener)
    assert (first_hello["listeners"], second_hello["listeners"]) == (1, 2)


async def test_unknown_path_is_refused(anonymous):
    """A WebSocket to a path nothing serves is refused at the handshake."""
    socket = WebsocketCommunicator(
        application, "/ws/nowhere/", headers=[(b"origin", b"http://127.0.0.1")]
    )
    connected, _ = await socket.connect()
    assert connected is False
    await socket.disconnect()


async def test_djs_see_who_listens_and_listeners_only_a_count(
    sockets, settings, station, anonymous, listener, dj
):
    """The DJ's console lists signed-in listeners; the room gets only a count."""
    settings.RADIO_LISTENER_COUNT_INTERVAL_SECONDS = 0.1
    studio = await sockets.studio(STATION_SLUG, dj)
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    await sockets.join(STATION_SLUG, listener)
    while (for_dj := await receive_json(studio, skip=()))["count"] < 2:
        pass
    while (for_room := await receive_json(room, skip=()))["type"] != "listeners" or (
        for_room["count"] < 2
    ):
        pass
    assert for_dj == {"type": "listeners", "count": 2, "users": [listener.username]}
    assert for_room == {"type": "listeners", "count": 2}
