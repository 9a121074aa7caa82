"""The DJ's socket, ``/ws/stations/<slug>/broadcast/``: who may use it, and
how it answers messages that break the protocol."""

from __future__ import annotations

import pytest
from django.conf import settings

from radio import protocol
from radio.protocol import MAX_TITLE_CHARS
from tests.support.processes import child_processes

from .clients import (
    broadcast_path,
    go_live,
    receive_close,
    receive_json,
    receive_type,
)
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("persona", "code"),
    [
        ("anonymous", protocol.CLOSE_SIGN_IN_REQUIRED),
        ("listener", protocol.CLOSE_FORBIDDEN),
        ("other_dj", protocol.CLOSE_FORBIDDEN),
    ],
    indirect=["persona"],
)
async def test_only_the_stations_djs_may_connect(sockets, station, persona, code):
    """Anonymous users get 4401, signed-in non-DJs and other DJs 4403."""
    studio = await sockets.connect(broadcast_path(STATION_SLUG), persona)
    assert await receive_close(studio) == code
    await studio.disconnect(code=code)


async def test_unknown_station_closes_4404(sockets, dj):
    """The broadcast socket of a slug no station has is closed with 4404."""
    studio = await sockets.connect(broadcast_path("no-such-station"), dj)
    assert await receive_close(studio) == protocol.CLOSE_NO_SUCH_STATION
    await studio.disconnect(code=protocol.CLOSE_NO_SUCH_STATION)


async def test_dj_is_told_the_listener_count_on_connect(sockets, dj):
    """A DJ's first message is the station's listener count."""
    studio = await sockets.connect(broadcast_path(STATION_SLUG), dj)
    first = await receive_json(studio, skip=())
    assert first == {"type": "listeners", "count": 0, "users": []}
    await studio.disconnect()


async def test_audio_before_start_gets_bad_request(sockets, dj):
    """Audio sent before ``start`` is answered with ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_to(bytes_data=b"\xff\xfb\x90\x00" * 100)
    error = await receive_json(studio)
    assert (error["type"], error["code"]) == ("error", protocol.BAD_REQUEST)
    await studio.disconnect()


@pytest.mark.parametrize("message", [{"type": "now_playing"}, {"type": "stop"}])
async def test_control_before_start_gets_bad_request(sockets, dj, message):
    """``now_playing`` and ``stop`` before ``start`` get ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({**message, "title": "x"})
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST
    await studio.disconnect()


@pytest.mark.parametrize("mime", ["video/mp4", "audio/x-nonsense", ""])
async def test_unsupported_format_is_refused_and_dj_may_start_again(sockets, dj, mime):
    """An unknown format gets ``unsupported_format``; a valid start still works."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "start", "format": mime})
    error = await receive_json(studio)
    assert (error["type"], error["code"]) == ("error", protocol.UNSUPPORTED_FORMAT)
    assert child_processes("ffmpeg") == []
    assert await go_live(studio) == {"type": "live", "resumed": False}
    await studio.disconnect()


@pytest.mark.parametrize("format_", [42, ["audio/mpeg"], {"mime": "audio/mpeg"}])
async def test_start_with_a_non_string_format_gets_bad_request(sockets, dj, format_):
    """``start`` whose ``format`` is not a string gets ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "start", "format": format_})
    error = await receive_json(studio)
    assert (error["type"], error["code"]) == ("error", protocol.BAD_REQUEST)
    await studio.disconnect()


async def test_second_dj_starting_while_one_is_live_closes_4409(sockets, dj, co_dj):
    """Another DJ's ``start`` while one is live closes 4409, leaving no ffmpeg."""
    first = await sockets.studio(STATION_SLUG, dj)
    await go_live(first)
    second = await sockets.studio(STATION_SLUG, co_dj)
    await second.send_json_to({"type": "start", "format": "audio/webm;codecs=opus"})
    assert await receive_close(second) == protocol.CLOSE_DJ_ALREADY_LIVE
    assert child_processes("ffmpeg") == []
    await second.disconnect(code=protocol.CLOSE_DJ_ALREADY_LIVE)
    await first.send_json_to({"type": "now_playing", "title": "Still here"})
    await first.send_json_to({"type": "stop"})
    off_air = await receive_type(first, "on_air")
    assert off_air == {
        "type": "on_air",
        "on_air": False,
        "source": None,
        "broadcast": None,
    }
    await first.disconnect()


async def test_same_dj_on_a_second_socket_is_refused_4409(sockets, dj):
    """A DJ already live cannot start the station again from another socket."""
    first = await sockets.studio(STATION_SLUG, dj)
    await go_live(first)
    second = await sockets.studio(STATION_SLUG, dj)
    await second.send_json_to({"type": "start", "format": "audio/mpeg"})
    assert await receive_close(second) == protocol.CLOSE_DJ_ALREADY_LIVE
    await second.disconnect(code=protocol.CLOSE_DJ_ALREADY_LIVE)
    await first.disconnect()


async def test_start_twice_gets_bad_request(sockets, dj):
    """A second ``start`` on a live socket gets ``bad_request``; still live."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await studio.send_json_to({"type": "start", "format": "audio/mpeg"})
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST
    await studio.send_json_to({"type": "now_playing", "title": "Still live"})
    assert (await receive_json(studio))["title"] == "Still live"
    await studio.disconnect()


async def test_audio_chunk_over_the_limit_closes_1009(sockets, dj):
    """A binary message over RADIO_MAX_AUDIO_CHUNK_BYTES closes with 1009."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    chunk = b"\x00" * (settings.RADIO_MAX_AUDIO_CHUNK_BYTES + 1)
    await studio.send_to(bytes_data=chunk)
    assert await receive_close(studio) == protocol.CLOSE_MESSAGE_TOO_BIG
    await studio.disconnect(code=protocol.CLOSE_MESSAGE_TOO_BIG)


async def test_text_frame_over_the_limit_closes_1009(sockets, dj):
    """A text frame over RADIO_MAX_TEXT_FRAME_BYTES closes with 1009."""
    studio = await sockets.studio(STATION_SLUG, dj)
    padding = "x" * settings.RADIO_MAX_TEXT_FRAME_BYTES
    await studio.send_json_to({"type": "start", "format": padding})
    assert await receive_close(studio) == protocol.CLOSE_MESSAGE_TOO_BIG
    await studio.disconnect(code=protocol.CLOSE_MESSAGE_TOO_BIG)


@pytest.mark.parametrize("field", ["title", "artist"])
@pytest.mark.parametrize("value", [42, ["a"], {"a": 1}, True])
async def test_now_playing_with_a_non_string_gets_bad_request(
    sockets, dj, field, value
):
    """``now_playing`` whose title or artist is not a string is refused."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await studio.send_json_to({"type": "now_playing", field: value})
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST
    await studio.disconnect()


@pytest.mark.parametrize("field", ["title", "artist"])
async def test_now_playing_over_the_length_limit_gets_too_long(sockets, dj, field):
    """A title or artist over MAX_TITLE_CHARS gets ``too_long``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await studio.send_json_to(
        {"type": "now_playing", field: "x" * (MAX_TITLE_CHARS + 1)}
    )
    assert (await receive_json(studio))["code"] == protocol.TOO_LONG
    await studio.send_json_to({"type": "now_playing", field: "x" * MAX_TITLE_CHARS})
    now_playing = await receive_json(studio)
    assert now_playing["type"] == "now_playing"
    assert now_playing[field] == "x" * MAX_TITLE_CHARS
    await studio.disconnect()


async def test_unknown_message_type_gets_bad_request(sockets, dj):
    """A message type the broadcast socket does not know gets ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "shout", "text": "hi"})
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST
    await studio.send_to(text_data="[]")
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST
    assert await go_live(studio) == {"type": "live", "resumed": False}
    await studio.disconnect()
