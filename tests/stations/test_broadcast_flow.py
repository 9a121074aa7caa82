"""A broadcast from the DJ's socket to the listeners' sockets and back off
air: audio, now playing, late joiners, dropped DJs and idle DJs."""

from __future__ import annotations

import asyncio

import pytest

from radio import protocol
from stations.streaming import producer
from stations.streaming.mp3 import parse_header as parse_frame_header
from stations.streaming.packets import HEADER_BYTES, now_ms, parse_header
from stations.streaming.transcoder import Transcoder
from tests.support.audio import frames_duration_ms, make_tone
from tests.support.processes import child_processes

from .clients import (
    TIMEOUT_S,
    go_live,
    messages_within,
    receive_any,
    receive_close,
    receive_json,
    receive_reply,
    receive_type,
    send_audio,
)
from .conftest import STATION_SLUG

pytestmark = pytest.mark.django_db(transaction=True)

ON_AIR = {"type": "on_air", "on_air": True, "source": "live"}
OFF_AIR = {"type": "on_air", "on_air": False, "source": None, "broadcast": None}
TONE_SECONDS = 4
# The burst PROTOCOL.md promises a listener who joins a station on air.
MIN_BURST_MS = 2000
# Short enough to wait out in a test, long enough to reconnect within.
GRACE_S = 1.0
# ffmpeg needs a moment to start and to flush; it is given this long.
TRANSCODE_TIMEOUT_S = 15.0
# How long a simulated slow ffmpeg takes to exit; well within the grace.
SLOW_FFMPEG_EXIT_S = 0.5

Audio = list[tuple[int, int, bytes]]


@pytest.fixture
def mp3(tmp_path) -> bytes:
    """Four seconds of tone as an MP3 file, ID3 tag and Info frame included."""
    return make_tone(tmp_path / "tone.mp3", seconds=TONE_SECONDS).read_bytes()


async def receive_audio(listener, count: int, *, timeout: float = TIMEOUT_S) -> Audio:
    """``count`` audio messages as ``(seq, ingest_ms, frames)``."""
    received = []
    for _ in range(count):
        message = await receive_any(listener, timeout=timeout)
        assert isinstance(message, bytes), f"expected audio, got {message}"
        seq, ingest_ms = parse_header(message)
        received.append((seq, ingest_ms, message[HEADER_BYTES:]))
    return received


def seqs(audio: Audio) -> list[int]:
    return [seq for seq, _, _ in audio]


def duration_ms(audio: Audio) -> float:
    return sum(frames_duration_ms(frames) for _, _, frames in audio)


def without_broadcast(on_air: dict) -> dict:
    """An ``on_air`` message without its ``broadcast``, whose start time varies."""
    return {key: value for key, value in on_air.items() if key != "broadcast"}


def assert_whole_frames_in_sequence(audio: Audio) -> None:
    assert seqs(audio) == list(range(audio[0][0], audio[0][0] + len(audio)))
    for _, _, frames in audio:
        assert frames_duration_ms(frames) > 0


async def test_listener_hears_a_broadcast_from_start_to_stop(
    sockets, dj, anonymous, mp3
):
    """A listener gets on_air, now_playing, numbered whole frames, off air."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    assert await go_live(studio) == {"type": "live", "resumed": False}
    on_air = await receive_json(room)
    assert without_broadcast(on_air) == ON_AIR
    assert on_air["broadcast"]["dj"] == "dj"

    await studio.send_json_to(
        {"type": "now_playing", "title": "Tone", "artist": "Sine"}
    )
    sent_from = now_ms()
    chunks = await send_audio(studio, mp3)
    now_playing = await receive_json(room)
    assert now_playing["type"] == "now_playing"
    assert (now_playing["title"], now_playing["artist"]) == ("Tone", "Sine")
    assert now_playing["source"] == "live"
    assert now_playing["started_at"]

    audio = await receive_audio(room, chunks)
    assert audio[0][0] == now_playing["seq"]
    assert_whole_frames_in_sequence(audio)
    assert all(sent_from <= ingest_ms <= now_ms() for _, ingest_ms, _ in audio)
    assert duration_ms(audio) == pytest.approx(TONE_SECONDS * 1000, abs=100)

    await studio.send_json_to({"type": "stop"})
    assert await receive_json(room) == OFF_AIR
    assert await receive_type(studio, "on_air") == OFF_AIR
    await studio.disconnect()
    await room.disconnect()


async def test_late_joiner_gets_the_burst_right_after_hello(
    sockets, dj, anonymous, listener, mp3
):
    """A listener joining on air gets hello, 2 s of burst, then live audio."""
    first, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await studio.send_json_to({"type": "now_playing", "title": "Tone"})
    chunks = await send_audio(studio, mp3)
    await receive_json(first)  # on_air
    now_playing = await receive_json(first)
    sent = await receive_audio(first, chunks)

    late, hello = await sockets.join(STATION_SLUG, listener)
    assert (hello["on_air"], hello["source"]) == (True, "live")
    assert hello["now_playing"] == {
        key: now_playing[key]
        for key in ("title", "artist", "source", "started_at", "seq")
    }
    burst = []
    while not burst or burst[-1][0] != sent[-1][0]:
        burst += await receive_audio(late, 1)
    assert_whole_frames_in_sequence(burst)
    assert burst == sent[-len(burst) :]
    assert duration_ms(burst) >= MIN_BURST_MS

    await send_audio(studio, mp3[:8192])
    (after,) = await receive_audio(late, 1)
    assert after[0] == sent[-1][0] + 1
    await studio.disconnect()
    assert await receive_json(late) == OFF_AIR
    await late.disconnect()
    await first.disconnect()


async def test_transcoded_broadcast_reaches_listeners_and_reaps_ffmpeg(
    sockets, dj, anonymous, tone_webm
):
    """WebM/Opus reaches listeners as MP3 frames; stopping reaps ffmpeg."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio, "audio/webm;codecs=opus")
    assert without_broadcast(await receive_json(room)) == ON_AIR
    await send_audio(studio, tone_webm, chunk_bytes=4096)
    audio = await receive_audio(room, 3, timeout=TRANSCODE_TIMEOUT_S)
    assert_whole_frames_in_sequence(audio)
    await studio.disconnect(timeout=TRANSCODE_TIMEOUT_S)
    assert await receive_type(room, "on_air") == OFF_AIR
    assert child_processes("ffmpeg") == []
    await room.disconnect()


async def test_dj_may_go_live_again_after_stop(sockets, dj, anonymous, mp3):
    """After ``stop`` the DJ may ``start`` again and seq carries on."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await send_audio(studio, mp3[:8192])
    assert without_broadcast(await receive_json(room)) == ON_AIR
    (first,) = await receive_audio(room, 1)
    await studio.send_json_to({"type": "stop"})
    assert await receive_json(room) == OFF_AIR

    assert await go_live(studio) == {"type": "live", "resumed": False}
    await send_audio(studio, mp3[:8192])
    assert without_broadcast(await receive_json(room)) == ON_AIR
    (second,) = await receive_audio(room, 1)
    assert second[0] == first[0] + 1
    await studio.disconnect()
    await room.disconnect()


@pytest.mark.parametrize("code", [1000, 1001])
async def test_dj_closing_cleanly_ends_the_broadcast_at_once(
    sockets, dj, anonymous, mp3, code
):
    """A DJ closing with 1000 or 1001 takes the station off air at once."""
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    chunks = await send_audio(studio, mp3)
    assert without_broadcast(await receive_json(room)) == ON_AIR
    await receive_audio(room, chunks)
    await studio.disconnect(code=code)
    assert await receive_json(room, timeout=0.5) == OFF_AIR
    await room.disconnect()


async def test_dropped_dj_resumes_within_the_grace(
    sockets, settings, dj, anonymous, mp3
):
    """A dropped DJ back within the grace resumes; listeners stay on air."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = GRACE_S
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await send_audio(studio, mp3[:8192])
    assert without_broadcast(await receive_json(room)) == ON_AIR
    (before,) = await receive_audio(room, 1)
    await studio.disconnect(code=1006)

    again = await sockets.studio(STATION_SLUG, dj)
    assert await go_live(again) == {"type": "live", "resumed": True}
    await send_audio(again, mp3[8192 : 2 * 8192])
    received = await messages_within(room, GRACE_S * 1.5)
    assert OFF_AIR not in received
    audio = [message for message in received if isinstance(message, bytes)]
    assert [parse_header(message)[0] for message in audio] == [before[0] + 1]

    await again.send_json_to({"type": "stop"})
    assert await receive_json(room) == OFF_AIR
    await again.disconnect()
    await room.disconnect()


async def test_dropped_dj_goes_off_air_after_the_grace(
    sockets, settings, dj, anonymous, listener
):
    """A dropped DJ who stays away goes off air after the grace, not before."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = GRACE_S
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    assert without_broadcast(await receive_json(room)) == ON_AIR
    loop = asyncio.get_running_loop()
    await studio.disconnect(code=1006)
    dropped_at = loop.time()

    late, hello = await sockets.join(STATION_SLUG, listener)
    assert hello["on_air"] is True
    assert await receive_json(room, timeout=GRACE_S + TIMEOUT_S) == OFF_AIR
    # The grace ends at 0.9 of its length; dropped_at is a little late.
    assert loop.time() - dropped_at >= GRACE_S * 0.8
    assert await receive_json(late) == OFF_AIR
    await late.disconnect()
    await room.disconnect()


async def test_dropped_transcoding_dj_may_resume_at_once(
    sockets, settings, monkeypatch, dj, anonymous, tone_webm
):
    """A dropped WebM DJ who starts again at once gets ``live`` resumed."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = GRACE_S
    aclose = Transcoder.aclose

    async def aclose_slowly(transcoder, *args, **kwargs):
        # ffmpeg may take up to CLOSE_TIMEOUT_SECS to flush and exit; a
        # slow exit makes the outcome the same on fast and slow machines.
        await asyncio.sleep(SLOW_FFMPEG_EXIT_S)
        await aclose(transcoder, *args, **kwargs)

    monkeypatch.setattr(Transcoder, "aclose", aclose_slowly)
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio, "audio/webm;codecs=opus")
    await send_audio(studio, tone_webm, chunk_bytes=4096)
    assert without_broadcast(await receive_json(room)) == ON_AIR
    await receive_audio(room, 1, timeout=TRANSCODE_TIMEOUT_S)
    await studio.disconnect(code=1006)

    again = await sockets.studio(STATION_SLUG, dj)
    await again.send_json_to({"type": "start", "format": "audio/webm;codecs=opus"})
    assert await receive_reply(again) == {"type": "live", "resumed": True}
    await again.disconnect(timeout=TRANSCODE_TIMEOUT_S)
    await room.disconnect()


async def test_dropped_dj_transcoder_is_reaped(
    sockets, settings, dj, anonymous, tone_webm
):
    """A dropped DJ's ffmpeg is gone by the time the grace has passed."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = GRACE_S
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio, "audio/webm;codecs=opus")
    await send_audio(studio, tone_webm, chunk_bytes=4096)
    assert without_broadcast(await receive_json(room)) == ON_AIR
    await receive_audio(room, 1, timeout=TRANSCODE_TIMEOUT_S)
    await studio.disconnect(code=1006)
    assert await receive_type(room, "on_air", timeout=TRANSCODE_TIMEOUT_S) == OFF_AIR
    assert child_processes("ffmpeg") == []
    await room.disconnect()


async def test_other_dj_cannot_take_over_during_the_grace(sockets, settings, dj, co_dj):
    """While a dropped DJ's grace runs, another DJ's ``start`` closes 4409."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = GRACE_S
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await studio.disconnect(code=1006)
    other = await sockets.studio(STATION_SLUG, co_dj)
    await other.send_json_to({"type": "start", "format": "audio/mpeg"})
    assert await receive_close(other) == protocol.CLOSE_DJ_ALREADY_LIVE
    await other.disconnect(code=protocol.CLOSE_DJ_ALREADY_LIVE)


async def test_idle_dj_is_taken_off_air(
    sockets, settings, monkeypatch, dj, anonymous, mp3
):
    """A silent DJ gets error ``idle`` and is closed; listeners go off air."""
    settings.RADIO_DJ_IDLE_TIMEOUT_SECONDS = 0.5
    # The lease keeper checks for idleness every third of the lease's life.
    monkeypatch.setattr(producer, "LEASE_TTL_S", 0.3)
    room, _ = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio)
    await send_audio(studio, mp3[:8192])
    assert without_broadcast(await receive_json(room)) == ON_AIR
    await receive_audio(room, 1)

    error = await receive_type(studio, "error")
    assert error["code"] == protocol.IDLE
    assert await receive_close(studio) in (None, 1000)
    await studio.disconnect()
    assert await receive_json(room) == OFF_AIR
    await room.disconnect()


async def test_mp3_in_another_format_comes_out_as_hello_announced(
    sockets, dj, anonymous, tmp_path
):
    """MP3 in another format reaches listeners as ``hello`` announced it."""
    other = make_tone(
        tmp_path / "48k.mp3", seconds=2, sample_rate=48000, bitrate="64k"
    ).read_bytes()
    room, hello = await sockets.join(STATION_SLUG, anonymous)
    studio = await sockets.studio(STATION_SLUG, dj)
    await go_live(studio, "audio/mpeg")
    await send_audio(studio, other)
    assert without_broadcast(await receive_json(room)) == ON_AIR
    (_, _, frames), *_ = await receive_audio(room, 1, timeout=TRANSCODE_TIMEOUT_S)
    header = parse_frame_header(frames)
    announced = hello["format"]
    assert (header.sample_rate, header.channels, header.bitrate_kbps) == (
        announced["sample_rate"],
        announced["channels"],
        announced["bitrate"],
    )
    await studio.disconnect(timeout=TRANSCODE_TIMEOUT_S)
    await room.disconnect()
