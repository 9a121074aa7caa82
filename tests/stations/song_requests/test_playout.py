"""The playout's part in requests, with real ffmpeg: a request's
``now_playing`` says ``is_request`` and is reported heard once published;
a skip fades into the next track at once."""

from __future__ import annotations

import asyncio
import uuid
from array import array
from dataclasses import replace

from radio.protocol import NOW_PLAYING
from stations.streaming.bus import AUTODJ, Claim, Lease
from stations.streaming.playout import PCM_BYTES_PER_MS, Playout, Program, QueuedTrack
from tests.support.audio import make_tone, tone_order
from tests.support.streaming import RecordingBus

CROSSFADE_MS = 500


def queued(folder, frequency: int, seconds: float, **fields) -> QueuedTrack:
    path = make_tone(folder / f"{frequency}.mp3", seconds=seconds, frequency=frequency)
    return QueuedTrack(
        path=str(path),
        title=f"Tone {frequency}",
        artist="",
        duration_ms=int(seconds * 1000),
        gain_db=0.0,
        **fields,
    )


def in_turn(tracks: list[QueuedTrack]):
    queue = list(tracks)

    async def next_track() -> QueuedTrack | None:
        return queue.pop(0) if queue else None

    return next_track


async def test_a_request_is_announced_as_one_and_reported_once_heard(tmp_path):
    plain = queued(tmp_path, 440, 1.5)
    request = replace(queued(tmp_path, 660, 1.5), request_id=42)
    bus = RecordingBus()
    lease = Lease(station_id=7, token=uuid.uuid4().hex, user_id=0, kind=AUTODJ)
    assert await bus.claim(lease, ttl_s=6) is Claim.GRANTED
    heard: list[int] = []
    playout = Playout(
        bus=bus,
        lease=lease,
        next_track=in_turn([plain, request]),
        bitrate_kbps=128,
        crossfade_ms=CROSSFADE_MS,
        request_heard=heard.append,
    )

    await asyncio.wait_for(playout.run(), timeout=20)

    announced = [
        (e.data["title"], e.data["is_request"]) for e in bus.events(NOW_PLAYING)
    ]
    assert announced == [("Tone 440", False), ("Tone 660", True)]
    assert heard == [42]


async def test_a_skip_fades_into_the_next_track_at_once(tmp_path):
    long, short = queued(tmp_path, 440, 8), queued(tmp_path, 660, 1)
    program = Program(in_turn([long, short]), crossfade_ms=CROSSFADE_MS)
    pcm = bytearray()
    async for piece, _ in program.pcm():
        if not pcm:
            program.skip()
        pcm += piece

    played_ms = len(pcm) / PCM_BYTES_PER_MS
    # The first piece (a crossfade's worth and a chunk), then the short track.
    assert played_ms < 1000 + 2 * CROSSFADE_MS
    left_channel = array("h", bytes(pcm))[::2]
    assert tone_order(left_channel, [440, 660]) == [440, 660]
