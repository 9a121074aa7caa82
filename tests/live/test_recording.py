"""Live broadcasts are recorded on a real daphne: ffmpeg goes live over the
Icecast port with a known MP3, titles are set while it plays, and the
episode, its tracklist, its seekable audio and the podcast feed follow. A
worker killed mid-show leaves an episode the sweeper finishes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import re
import urllib.parse
import urllib.request
from pathlib import Path

import feedparser
import pytest

from stations.streaming.mp3 import parse_header, whole_frames
from stations.streaming.packets import HEADER_BYTES, now_ms
from stations.streaming.packets import parse_header as parse_packet_header
from tests.live.conftest import DJ, STATION, sqlite_installation
from tests.live.test_broadcast import join
from tests.live.test_sources import (
    ffmpeg_source,
    icecast_url,
    stop_source,
)
from tests.support.audio import decoded_seconds, frames_duration_ms, make_tone
from tests.support.clients import Received, listen

pytestmark = pytest.mark.live

SHOW_SECONDS = 8.0
# When the titles are set, in seconds after the first audio went out.
TITLES_AT_S = (2.0, 5.0)
# Long enough for ffmpeg to finish a show, the grace and the recording.
EPISODE_TIMEOUT_S = SHOW_SECONDS + 15
# How long a killed worker's recording must be silent before it is swept.
STALE_S = 1.5
# About 3 s of 128 kbit/s audio: the file a killed worker leaves.
WRITTEN_BEFORE_KILL_BYTES = 48_000


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = sqlite_installation(
        tmp_path_factory,
        RADIO_AUTODJ="0",
        RADIO_DJ_RECONNECT_GRACE_SECONDS="1",
        RADIO_RECORDING_FLUSH_SECONDS="0.25",
        RADIO_RECORDING_HEARTBEAT_SECONDS="0.5",
        RADIO_RECORDING_STALE_SECONDS=str(STALE_S),
        RADIO_RECORDING_SWEEP_SECONDS="0.5",
    )
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def worker(deployment):
    return deployment.start_worker()


@pytest.fixture(scope="module")
def show_mp3(tmp_path_factory) -> Path:
    return make_tone(tmp_path_factory.mktemp("show") / "show.mp3", seconds=SHOW_SECONDS)


def get(worker, path: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(worker.http_url + path, headers=headers or {})
    return urllib.request.urlopen(request, timeout=10)


def podcast(worker) -> feedparser.FeedParserDict:
    with get(worker, f"/stations/{STATION}/podcast.xml") as response:
        return feedparser.parse(response.read())


async def episodes_in_feed(worker, count: int) -> list:
    """The feed's entries once it lists ``count`` episodes."""
    async with asyncio.timeout(EPISODE_TIMEOUT_S):
        while (
            len(entries := (await asyncio.to_thread(podcast, worker)).entries) < count
        ):
            await asyncio.sleep(0.2)
    return entries


async def first_audio(socket, received: Received) -> int:
    """When the first audio of the broadcast arrived (``now_ms``)."""
    async for message in socket:
        if isinstance(message, bytes):
            arrived = now_ms()
            seq, ingest_ms = parse_packet_header(message)
            received.audio.append((seq, ingest_ms, message[HEADER_BYTES:], arrived))
            return arrived
    raise AssertionError("the station went away before any audio")


async def set_titles(worker, first_audio_ms: int) -> list[tuple[int, int]]:
    """Set a title at each of TITLES_AT_S after the first audio; when each
    request was sent and answered (``now_ms``): the title was set between."""
    set_between = []
    for title_at in TITLES_AT_S:
        await asyncio.sleep(max(0.0, (first_audio_ms - now_ms()) / 1000 + title_at))
        sent = now_ms()
        await asyncio.to_thread(set_title, worker, f"Track at {title_at:g}")
        set_between.append((sent, now_ms()))
    return set_between


def set_title(worker, title: str) -> None:
    """Icecast's title update, as an encoder sends it, on the main site."""
    query = urllib.parse.urlencode(
        {"mode": "updinfo", "mount": f"/{STATION}", "song": title, "charset": "UTF-8"}
    )
    credentials = base64.b64encode(f"{DJ[0]}:{DJ[1]}".encode()).decode()
    with get(
        worker,
        f"/admin/metadata?{query}",
        headers={"Authorization": f"Basic {credentials}"},
    ) as response:
        assert b"<return>1</return>" in response.read()


def seconds_before(received: Received, seq: int) -> float:
    """How much of the broadcast the listener heard before the packet ``seq``."""
    before = b"".join(frames for number, _, frames, _ in received.audio if number < seq)
    return frames_duration_ms(before) / 1000


def tracklist_of(page: str) -> list[tuple[float, str]]:
    """(offset in seconds, title) of each tracklist entry of an episode page."""
    entries = re.findall(
        r'data-seek="([\d.]+)">[^<]*</a>\s*<span class="track">([^<]*)<', page
    )
    return [(float(offset), html.unescape(title)) for offset, title in entries]


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


async def test_a_live_show_becomes_an_episode_with_its_tracklist(worker, show_mp3):
    """The recording is the broadcast, from a frame boundary; the titles are
    where they were set; the audio seeks; the feed lists it."""
    listener, _ = await join(worker)
    received = Received()
    source = ffmpeg_source(show_mp3, icecast_url(worker), "-f", "mp3")
    try:
        async with asyncio.timeout(EPISODE_TIMEOUT_S):
            first_audio_ms = await first_audio(listener, received)
            hearing = asyncio.create_task(listen(listener, received, until="off_air"))
            set_between = await set_titles(worker, first_audio_ms)
            await hearing
    finally:
        stop_source(source)
        await listener.close()

    [entry] = await episodes_in_feed(worker, 1)
    [enclosure] = entry.enclosures
    with get(worker, path_of(enclosure.href)) as response:
        audio = response.read()
        assert response.headers["Accept-Ranges"] == "bytes"
    assert int(enclosure.length) == len(audio)
    assert enclosure.type == "audio/mpeg"
    assert audio == received.mp3
    assert parse_header(audio, 0) is not None, "not on a frame boundary"
    assert whole_frames(io.BytesIO(audio))[0] == len(audio)
    assert decoded_seconds(audio) == pytest.approx(SHOW_SECONDS, rel=0.02)

    with get(worker, path_of(entry.link)) as response:
        tracklist = tracklist_of(response.read().decode())
    assert [title for _, title in tracklist] == [
        f"Track at {title_at:g}" for title_at in TITLES_AT_S
    ]
    for (offset, title), (sent_ms, answered_ms) in zip(
        tracklist, set_between, strict=True
    ):
        [announced] = [
            message
            for message in received.of_type("now_playing")
            if message["title"] == title
        ]
        assert offset == pytest.approx(
            seconds_before(received, announced["seq"]), abs=0.002
        )
        # The title went on the packet after the last one published before
        # the request was handled, which is between sent and answered.
        packets = {
            seq: (ingest_ms, arrived) for seq, ingest_ms, _, arrived in received.audio
        }
        assert packets[announced["seq"] - 1][0] <= answered_ms
        assert packets[announced["seq"]][1] >= sent_ms

    ranged = {"Range": "bytes=1000-1999"}
    with get(worker, path_of(enclosure.href), headers=ranged) as partial:
        assert partial.status == 206
        assert partial.headers["Content-Range"] == f"bytes 1000-1999/{len(audio)}"
        assert partial.read() == audio[1000:2000]


async def test_a_show_whose_worker_died_is_still_an_episode(
    worker, deployment, tmp_path
):
    """SIGKILL mid-show: the file up to then decodes, and the sweeper of the
    restarted worker finishes the episode."""
    long_show = make_tone(tmp_path / "long.mp3", seconds=60)
    before = {path.name for path in recordings(deployment)}
    listener, _ = await join(worker)
    received = Received()
    source = ffmpeg_source(long_show, icecast_url(worker), "-f", "mp3")
    try:
        async with asyncio.timeout(EPISODE_TIMEOUT_S):
            await first_audio(listener, received)
            [path] = [p for p in recordings(deployment) if p.name not in before]
            while path.stat().st_size < WRITTEN_BEFORE_KILL_BYTES:
                await asyncio.sleep(0.1)
        worker.process.kill()
        worker.process.wait()
    finally:
        stop_source(source)
    with contextlib.suppress(Exception):
        await listener.close()
    written = path.read_bytes()
    size, _ = whole_frames(io.BytesIO(written))
    assert decoded_seconds(written[:size]) > 2

    worker.start_again()
    entries = await episodes_in_feed(worker, 2)
    newest = entries[0]
    [enclosure] = newest.enclosures
    with get(worker, path_of(enclosure.href)) as response:
        audio = response.read()
    assert int(enclosure.length) == len(audio)
    assert audio == written[:size]
    assert decoded_seconds(audio) == pytest.approx(
        whole_frames(io.BytesIO(audio))[1] / 1000, rel=0.02
    )


def recordings(deployment) -> list[Path]:
    return list((deployment.media_root / "recordings").glob("*/*.mp3"))
