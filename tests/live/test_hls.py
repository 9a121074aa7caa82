"""HLS from real daphne workers: ffmpeg plays it, and any worker serves it."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from stations.streaming.hls import WINDOW_SEGMENTS
from tests.live.conftest import STATION
from tests.live.test_broadcast import go_live
from tests.support.audio import CHANNELS, SAMPLE_RATE
from tests.support.clients import stream_file

pytestmark = pytest.mark.live

PLAYLIST = f"/stations/{STATION}/hls/live.m3u8"
PLAY_SECONDS = 20.0
# ffmpeg starts three segments from the live edge; the DJ sends enough
# for that, the seconds played and the time ffmpeg takes to start.
DJ_SECONDS = 36
# How long a test waits for segments that come every 2 s.
SEGMENTS_TIMEOUT_S = 20.0


def segment_names(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if not line.startswith("#")]


def media_sequence(playlist: str) -> int:
    [line] = [x for x in playlist.splitlines() if x.startswith("#EXT-X-MEDIA-SEQ")]
    return int(line.split(":")[1])


async def playlist_with(client: httpx.AsyncClient, count: int) -> str:
    """The playlist, once it lists at least ``count`` segments."""
    async with asyncio.timeout(SEGMENTS_TIMEOUT_S):
        while len(segment_names(text := (await client.get(PLAYLIST)).text)) < count:
            await asyncio.sleep(0.2)
    return text


async def on_air(worker, tone_mp3: bytes, seconds: int):
    """A DJ on ``worker`` streaming a tone for about ``seconds``."""
    dj = await go_live(worker, "audio/mpeg")
    await dj.send(json.dumps({"type": "now_playing", "title": "Tone", "artist": "HLS"}))
    repeats = -(-seconds // 6)  # the tone lasts 6 s
    sender = asyncio.create_task(stream_file(dj, tone_mp3 * repeats, bitrate_kbps=128))
    return dj, sender


async def off_air(dj, sender) -> None:
    sender.cancel()
    await dj.send(json.dumps({"type": "stop"}))
    await dj.close()


async def test_ffmpeg_plays_the_station_over_hls(server, tone_mp3):
    """ffmpeg reading the playlist at its pace for 20 s decodes 20 s ±5 %."""
    dj, sender = await on_air(server, tone_mp3, DJ_SECONDS)
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        await playlist_with(client, 3)
    ffmpeg = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-re", "-i", server.http_url + PLAYLIST,
        "-t", str(PLAY_SECONDS), "-f", "s16le", "-ac", str(CHANNELS),
        "-ar", str(SAMPLE_RATE), "pipe:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    started = loop.time()
    pcm, errors = await asyncio.wait_for(ffmpeg.communicate(), PLAY_SECONDS * 2)
    took = loop.time() - started
    await off_air(dj, sender)

    assert ffmpeg.returncode == 0
    assert ffmpeg_errors(errors) == []
    decoded = len(pcm) / (2 * CHANNELS * SAMPLE_RATE)
    assert decoded == pytest.approx(PLAY_SECONDS, rel=0.05)
    # Played as it came, live, not read from a store of it all.
    assert took >= PLAY_SECONDS * 0.95


def ffmpeg_errors(stderr: bytes) -> list[str]:
    """ffmpeg's error lines but one: a segment's timestamp is its first
    packet's ingest time, so a late packet before it can make it start a
    frame before the last one ended, which ffmpeg's muxer mends and says."""
    return [
        line
        for line in stderr.decode(errors="replace").splitlines()
        if "non monotonically increasing dts" not in line
    ]


async def test_playlist_slides_and_old_segments_go(server, tone_mp3):
    """Each new segment moves the window on by one; one that left it is 404."""
    dj, sender = await on_air(server, tone_mp3, 24)
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        first = await playlist_with(client, 1)
        oldest = segment_names(first)[0]
        async with asyncio.timeout(SEGMENTS_TIMEOUT_S * 2):
            while oldest in segment_names(later := (await client.get(PLAYLIST)).text):
                await asyncio.sleep(0.5)
        gone = await client.get(f"/stations/{STATION}/hls/{oldest}")
        newest = await client.get(f"/stations/{STATION}/hls/{segment_names(later)[-1]}")
    await off_air(dj, sender)

    assert len(segment_names(later)) == WINDOW_SEGMENTS
    assert media_sequence(later) > media_sequence(first)
    numbers = [int(name.split("-")[0]) for name in segment_names(later)]
    assert numbers == list(range(media_sequence(later), numbers[0] + len(numbers)))
    assert gone.status_code == 404
    assert newest.status_code == 200
    assert newest.content.startswith(b"ID3")


async def test_headers_let_a_cdn_keep_segments_and_not_the_playlist(server, tone_mp3):
    """Playlist: max-age=1; segments: long-lived and immutable; CORS on both."""
    dj, sender = await on_air(server, tone_mp3, 12)
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        playlist = await client.get(PLAYLIST)
        await playlist_with(client, 1)
        name = segment_names((await client.get(PLAYLIST)).text)[0]
        segment = await client.get(f"/stations/{STATION}/hls/{name}")
        head = await client.head(f"/stations/{STATION}/hls/{name}")
        unknown = await client.get("/stations/no-such-station/hls/live.m3u8")
    await off_air(dj, sender)

    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert playlist.headers["cache-control"] == "public, max-age=1"
    assert playlist.headers["access-control-allow-origin"] == "*"
    assert segment.headers["content-type"] == "audio/mpeg"
    assert "immutable" in segment.headers["cache-control"]
    assert segment.headers["access-control-allow-origin"] == "*"
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(segment.content)
    assert unknown.status_code == 404


@pytest.mark.redis
@pytest.mark.postgres
async def test_two_workers_serve_the_same_segments(shared_deployment, tone_mp3):
    """Every segment one worker lists, the other serves with the same bytes,
    though it has no listener of the station."""
    dj_worker, other = (
        shared_deployment.start_worker(),
        shared_deployment.start_worker(),
    )
    dj, sender = await on_air(dj_worker, tone_mp3, 18)
    async with (
        httpx.AsyncClient(base_url=dj_worker.http_url) as here,
        httpx.AsyncClient(base_url=other.http_url) as there,
    ):
        await playlist_with(here, 3)
        names_there = segment_names(await playlist_with(there, 3))
        names_here = segment_names((await here.get(PLAYLIST)).text)
        # The other worker may not have read the newest yet: it reads on
        # when asked for one.
        pairs = [
            (
                await here.get(f"/stations/{STATION}/hls/{name}"),
                await there.get(f"/stations/{STATION}/hls/{name}"),
            )
            for name in names_here
        ]
    await off_air(dj, sender)

    assert len(set(names_here) & set(names_there)) >= 2
    for mine, theirs in pairs:
        assert mine.status_code == theirs.status_code == 200
        assert mine.content == theirs.content
