"""The station sockets under attack: messages before joining, text no
database stores, floods of writes and audio, rights taken away, and a
handler that fails, each without leaking anything or troubling anyone else."""

from __future__ import annotations

import logging

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from radio import protocol
from stations import consumers
from stations.models import Station
from stations.runtime import get_bus
from stations.streaming.packets import HEADER_BYTES
from tests.support.audio import frames_duration_ms, make_tone

from .clients import (
    broadcast_path,
    go_live,
    receive_any,
    receive_close,
    receive_json,
    receive_type,
    send_audio,
)
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

# Lone surrogates and NUL: JSON carries them, UTF-8 or PostgreSQL cannot.
UNSTORABLE = ["\ud800", "nul \x00 inside", "\udfff tail"]
OFF_AIR = {"type": "on_air", "on_air": False, "source": None, "broadcast": None}


async def station_pk() -> int:
    return (await Station.objects.aget(slug=STATION_SLUG)).pk


async def hub_clients() -> int:
    hub = get_bus().hub(await station_pk())
    return 0 if hub is None else hub.client_count


@pytest.mark.parametrize(
    ("persona", "code"),
    [("anonymous", 4401), ("listener", 4403), ("other_dj", 4403)],
    indirect=["persona"],
)
async def test_start_sent_before_the_refusal_takes_nothing(
    sockets, station, persona, code, tone_mp3
):
    """``start`` and audio queued right after the handshake are dropped: the
    socket is closed and the station stays off air and free."""
    studio = sockets.open(broadcast_path(STATION_SLUG), persona)
    await studio.connect()
    await studio.send_json_to({"type": "start", "format": "audio/mpeg"})
    await studio.send_to(bytes_data=tone_mp3[:8192])
    assert await receive_close(studio) == code
    await studio.disconnect(code=code)

    state = await get_bus().state(station.pk)
    assert state["on_air"] is False
    assert await hub_clients() == 0


async def test_start_checks_the_dj_again(sockets, station, dj):
    """A DJ taken off the station after connecting is refused at ``start``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    # A bulk delete sends no signal: only the check in ``start`` can notice.
    await Station.djs.through.objects.filter(station=station).adelete()
    await studio.send_json_to({"type": "start", "format": "audio/mpeg"})
    assert await receive_close(studio) == protocol.CLOSE_FORBIDDEN
    assert (await get_bus().state(station.pk))["on_air"] is False


async def test_a_dj_taken_off_the_station_goes_off_air(
    sockets, station, dj, anonymous, tone_mp3
):
    """Removing a live DJ ends the broadcast and closes the socket with 4403."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await send_audio(studio, tone_mp3[:16384])
    assert (await receive_type(room, "on_air"))["on_air"] is True

    user = await get_user_model().objects.aget(username=dj.username)
    await database_sync_to_async(station.djs.remove)(user)
    assert (await receive_type(studio, "error"))["code"] == protocol.FORBIDDEN
    assert await receive_close(studio) == protocol.CLOSE_FORBIDDEN
    assert (await receive_type(room, "on_air"))["on_air"] is False


async def test_a_deactivated_listener_listens_on_as_a_guest(sockets, station, listener):
    """Deactivating a signed-in listener keeps their audio but not their chat."""
    room, hello = await sockets.join(STATION_SLUG, listener)
    assert hello["user"] == listener.username
    user = await get_user_model().objects.aget(username=listener.username)
    user.is_active = False
    await database_sync_to_async(user.save)()
    assert (await receive_type(room, "error"))["code"] == protocol.AUTH_REQUIRED
    await room.send_json_to({"type": "chat", "text": "hello?"})
    assert (await receive_type(room, "error"))["code"] == protocol.AUTH_REQUIRED


@pytest.mark.parametrize("text", UNSTORABLE)
async def test_unstorable_chat_text_is_a_bad_request(sockets, station, listener, text):
    """Chat text with a lone surrogate or NUL gets ``bad_request``; the socket
    stays in the room and can chat on."""
    room, _ = await sockets.join(STATION_SLUG, listener)
    await room.send_json_to({"type": "chat", "text": text})
    assert (await receive_type(room, "error"))["code"] == protocol.BAD_REQUEST
    await room.send_json_to({"type": "chat", "text": "fine"})
    assert (await receive_type(room, "chat"))["text"] == "fine"
    assert await hub_clients() == 1


@pytest.mark.parametrize("message_id", [2**63, 2**70, 0, -5, 1.5, "1", None])
async def test_chat_ids_out_of_range_are_a_bad_request(
    sockets, station, dj, message_id
):
    """``chat.delete`` with an id no database row can have gets ``bad_request``."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await studio.send_json_to({"type": "chat.delete", "id": message_id})
    assert (await receive_json(studio))["code"] == protocol.BAD_REQUEST


async def test_moderation_attempts_are_rate_limited(
    sockets, station, listener, settings
):
    """A listener hammering ``chat.mute`` is refused after the burst, without
    a database write for each message."""
    settings.RADIO_WRITES_PER_SECOND = (
        0.01  # no token comes back mid-burst on a slow machine
    )
    room, _ = await sockets.join(STATION_SLUG, listener)
    codes = []
    for _ in range(settings.RADIO_WRITES_BURST + 3):
        await room.send_json_to({"type": "chat.mute", "user": "someone"})
        codes.append((await receive_type(room, "error"))["code"])
    burst = settings.RADIO_WRITES_BURST
    assert codes[:burst] == [protocol.FORBIDDEN] * burst
    assert codes[burst:] == [protocol.RATE_LIMITED] * 3


async def test_title_changes_are_rate_limited(sockets, station, dj):
    """A DJ may change the title ``RADIO_NOW_PLAYING_BURST`` times at once."""
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    for number in range(settings.RADIO_NOW_PLAYING_BURST):
        await studio.send_json_to({"type": "now_playing", "title": f"T{number}"})
    await studio.send_json_to({"type": "now_playing", "title": "one too many"})
    error = await receive_type(studio, "error")
    assert error["code"] == protocol.RATE_LIMITED


async def test_audio_far_faster_than_real_time_ends_the_broadcast(
    sockets, station, dj, anonymous, tmp_path, settings
):
    """A DJ sending audio past the head start gets ``too_fast`` and 4400;
    listeners get no more than the head start, and the station goes off air."""
    settings.RADIO_DJ_AUDIO_HEAD_START_SECONDS = 3.0
    flood = make_tone(tmp_path / "flood.mp3", seconds=12).read_bytes()
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await send_audio(studio, flood, chunk_bytes=16384)
    assert (await receive_type(studio, "error"))["code"] == protocol.TOO_FAST
    assert await receive_close(studio) == protocol.CLOSE_BAD_REQUEST

    heard = []
    while (message := await receive_any(room)) != OFF_AIR:
        if isinstance(message, bytes):
            heard.append(message[HEADER_BYTES:])
    assert 0 < frames_duration_ms(b"".join(heard)) <= 3500


async def test_a_failing_handler_closes_1011_and_leaves_the_hub(
    sockets, station, listener, monkeypatch, caplog
):
    """An unexpected error in a handler closes the socket with 1011, logged
    once, and the listener leaves the hub as if it had disconnected."""

    async def broken(**kwargs):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(consumers, "achat_message_create", broken)
    room, _ = await sockets.join(STATION_SLUG, listener)
    assert await hub_clients() == 1
    with caplog.at_level(logging.ERROR, logger="radio.sockets"):
        await room.send_json_to({"type": "chat", "text": "boom"})
        assert await receive_close(room) == protocol.CLOSE_INTERNAL_ERROR
        await room.send_json_to({"type": "chat", "text": "anyone?"})
        assert await room.receive_nothing(timeout=0.2)
    await room.disconnect(code=protocol.CLOSE_INTERNAL_ERROR)
    assert await hub_clients() == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "the database is on fire" in errors[0].exc_text
