"""A broadcast from the DJ's socket to the listeners' sockets and back off
air: audio, now playing, late joiners, dropped DJs and idle DJs."""

from __future__ import annotations

import asyncio

import pytest

from stations import protocol
from stations.streaming import broadcast
from stations.streaming.packets import HEADER_BYTES, now_ms, parse_header
from tests.support.audio import frames_duration_ms, make_tone

from .clients import (
    TIMEOUT_S,
    ffmpeg_children,
    go_live,
    messages_within,
    receive_any,
    receive_close,
    receive_json,
    receive_type,
    send_audio,
)
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

ON_AIR = {"type": "on_air", "on_air": True, "source": "live"}
OFF_AIR = {"type": "on_air", "on_air": False, "source": None}
# The burst PROTOCOL.md promises a listener who joins a station on air.
MIN_BURST_MS = 2000
# Short enough to wait out in a test, long enough to reconnect within.
GRACE_S = 1.0


@pytest.fixture
def mp3(tmp_path) -> bytes:
    """Four seconds of tone as an MP3 file, ID3 tag and Info frame included."""
    return make_tone(tmp_path / "tone.mp3", seconds=4).read_bytes()


async def receive_audio(listener, count: int) -> list[tuple[int, int, bytes]]:
    """``count`` audio messages as ``(seq, ingest_ms, frames)``."""
    received = []
    for _ in range(count):
        message = await receive_any(listener)
        assert isinstance(message, bytes), f"expected audio, got {message}"
        seq, ingest_ms = parse_header(message)
        received.append((seq, ingest_ms, message[HEADER_BYTES:]))
    return received


def assert_whole_frames_in_sequence(audio: list[tuple[int, int, bytes]]) -> None:
    seqs = [seq for seq, _, _ in audio]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    for _, _, frames in audio:
        assert frames_duration_ms(frames) > 0


async def test_listener_hears_a_broadcast_from_start_to_stop(sockets, dj, mp3):
    """A listener gets ``on_air``, ``now_playing`` with the seq of the next
    audio message, numbered audio of whole MP3 frames, then ``on_air`` false."""
    room, _ = await sockets.join(STATION_SLUG, sockets_anonymous := None or dj)
    studio = await sockets.studio(STATION_SLUG, dj)
    assert await go_live(studio) == {"type": "live", "resumed": False}
    assert await receive_json(room) == ON_AIR

    await studio.send_json_to(
        {"type": "now_playing", "title": "Tone", "artist": "Sine"}
    )
    sent_after = now_ms()
    chunks = await send_audio(studio, mp3)
    now_playing = await receive_json(room)
    assert now_playing["type"] == "now_playing"
    assert (now_playing["title"], now_playing["artist"]) == ("Tone", "Sine")
    assert now_playing["source"] == "live"
    assert now_playing["started_at"]

    audio = await receive_audio(room, chunks)
    assert audio[0][0] == now_playing["seq"]
    assert_whole_frames_in_sequence(audio)
    for _, ingest_ms, _ in audio:
        assert sent_after - 1000 <= ingest_ms <= now_ms()
    total_ms = sum(frames_duration_ms(frames) for _, _, frames in audio)
    assert total_ms == pytest.approx(4000, abs=100)

    await studio.send_json_to({"type": "stop"})
    assert await receive_json(room) == OFF_AIR
    assert await receive_type(studio, "on_air") == OFF_AIR
    await studio.disconnect()
    await room.disconnect()
    del sockets_anonymous
