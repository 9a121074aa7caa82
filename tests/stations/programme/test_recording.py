"""A DJ's broadcast is recorded into its episode: the frames it published,
the titles set during it at their offsets, and one episode across a resume."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from stations import runtime
from stations.broadcasts import go_live
from stations.models import Station
from stations.programme.models import Episode, Play, Show, Slot
from stations.sources.auth import SOURCE_PASSWORD_USER_ID
from stations.streaming.broadcast import OnAir
from stations.streaming.bus import AUTODJ, Claim, Lease
from stations.streaming.mp3 import FrameSplitter, parse_header, whole_frames

pytestmark = pytest.mark.django_db(transaction=True)

# A passed-through packet holds at least 75 ms of frames, so a title lands
# at most one packet after the audio it followed.
PACKET_MS = 80
# 1152 samples at 44.1 kHz a frame.
FRAMES_A_SECOND = 38


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug="rec-fm", name="Rec FM")


@pytest.fixture
def dj(station):
    user = get_user_model().objects.create_user("rec-dj")
    station.djs.add(user)
    return user


@pytest.fixture
def seconds_of_mp3(tone_mp3) -> list[bytes]:
    """The tone's frames (no tag, no Info frame) in chunks of about a second."""
    payload = FrameSplitter().feed(tone_mp3).payload
    chunks, position = [], 0
    while position < len(payload):
        end = position
        for _ in range(FRAMES_A_SECOND):
            if end < len(payload):
                end += parse_header(payload, end).length
        chunks.append(payload[position:end])
        position = end
    return chunks


async def start(station, dj, *, user_id=None):
    return await go_live(
        station,
        user_id=dj.pk if user_id is None else user_id,
        on_air=OnAir(dj=dj.username),
        mime="audio/mpeg",
        on_lost=lambda reason: None,
    )


async def settle() -> None:
    """Let the titles published so far be stored (in the background)."""
    while pending := [t for t in runtime._background if not t.done()]:
        await asyncio.wait(pending, timeout=5)


def length_ms(frames: bytes) -> float:
    return whole_frames(io.BytesIO(frames))[1]


def recorded(episode: Episode) -> bytes:
    return Path(episode.file.path).read_bytes()


async def test_a_broadcast_is_recorded_with_its_tracklist(station, dj, seconds_of_mp3):
    """The episode's file holds the frames that went out, and each title is
    at the offset of the audio it followed."""
    broadcast, claim = await start(station, dj)
    assert claim is Claim.GRANTED
    await broadcast.feed(seconds_of_mp3[0])
    await broadcast.set_now_playing(title="First", artist="A")
    await broadcast.feed(seconds_of_mp3[1])
    await broadcast.feed(seconds_of_mp3[2])
    await broadcast.set_now_playing(title="Second", artist="B")
    await broadcast.feed(seconds_of_mp3[3])
    await settle()
    await broadcast.stop()

    episode = await Episode.objects.select_related("dj").aget()
    data = recorded(episode)
    size, duration_ms = whole_frames(io.BytesIO(data))
    assert size == len(data) == episode.size_bytes
    assert data == b"".join(seconds_of_mp3[:4])
    assert episode.duration_ms == pytest.approx(duration_ms, abs=1)
    assert episode.ended_at is not None
    assert episode.dj == dj
    assert episode.title.startswith("rec-dj, ")
    assert episode.file.name.startswith(f"recordings/{station.pk}/")
    tracklist = [p async for p in episode.tracklist.order_by("offset_ms")]
    assert [p.title for p in tracklist] == ["First", "Second"]
    first_ms = length_ms(seconds_of_mp3[0])
    second_ms = length_ms(b"".join(seconds_of_mp3[:3]))
    assert first_ms - PACKET_MS <= tracklist[0].offset_ms <= first_ms + 1
    assert second_ms - PACKET_MS <= tracklist[1].offset_ms <= second_ms + 1


async def test_the_show_on_air_names_the_episode(station, dj, seconds_of_mp3):
    """A broadcast in a show's slot is an episode of that show."""
    show = await Show.objects.acreate(station=station, name="Breakfast", slug="b")
    await Slot.objects.acreate(
        show=show,
        kind=Slot.Kind.ONCE,
        starts_at=datetime.now(UTC) - timedelta(minutes=5),
        duration_minutes=60,
    )
    broadcast, _ = await start(station, dj)
    await broadcast.feed(seconds_of_mp3[0])
    await broadcast.stop()

    episode = await Episode.objects.aget()
    assert episode.show_id == show.pk
    assert episode.title.startswith("Breakfast, ")


async def test_a_station_may_not_record(station, dj, seconds_of_mp3):
    station.record_broadcasts = False
    await station.asave()
    broadcast, _ = await start(station, dj)
    await broadcast.feed(seconds_of_mp3[0])
    await broadcast.stop()
    assert not await Episode.objects.aexists()


async def test_a_broadcast_without_audio_leaves_no_episode(station, dj):
    broadcast, _ = await start(station, dj)
    await broadcast.stop()
    assert not await Episode.objects.aexists()


async def test_a_resumed_broadcast_goes_on_in_the_same_episode(
    station, dj, seconds_of_mp3, settings
):
    """Only the broadcast that took the episode over finishes it: the
    dropped one's grace ends first without touching it."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = 0.3
    dropped, _ = await start(station, dj)
    await dropped.feed(seconds_of_mp3[0])
    grace = asyncio.create_task(dropped.suspend(flush=True))
    resumed = None
    async with asyncio.timeout(5):
        while resumed is None:
            broadcast, claim = await start(station, dj)
            if claim is Claim.RESUMED:
                resumed = broadcast
            await asyncio.sleep(0.01)
    await resumed.feed(seconds_of_mp3[1])
    await grace
    episode = await Episode.objects.aget()
    assert episode.ended_at is None

    await resumed.feed(seconds_of_mp3[2])
    await resumed.stop()

    episode = await Episode.objects.aget()
    assert episode.ended_at is not None
    assert recorded(episode) == b"".join(seconds_of_mp3[:3])
    _, duration_ms = whole_frames(io.BytesIO(recorded(episode)))
    assert episode.duration_ms == pytest.approx(duration_ms, abs=1)


async def test_a_source_password_broadcast_has_no_dj_account(
    station, dj, seconds_of_mp3
):
    """A source logged in with the station's source password is named by
    its login, with no user behind it."""
    broadcast, _ = await start(station, dj, user_id=SOURCE_PASSWORD_USER_ID)
    await broadcast.feed(seconds_of_mp3[0])
    await broadcast.stop()
    episode = await Episode.objects.aget()
    assert (episode.dj_id, episode.dj_name) == (None, "rec-dj")


async def test_a_dropped_broadcast_the_autodj_took_over_is_finished(
    station, dj, seconds_of_mp3, settings
):
    """The AutoDJ takes a station whose DJ dropped: the grace ends with the
    lease lost, and the episode is finished with what was recorded."""
    settings.RADIO_DJ_RECONNECT_GRACE_SECONDS = 0.3
    dropped, _ = await start(station, dj)
    await dropped.feed(seconds_of_mp3[0])
    grace = asyncio.create_task(dropped.suspend(flush=True))
    autodj = Lease(station_id=station.pk, token="autodj", user_id=0, kind=AUTODJ)
    async with asyncio.timeout(5):
        while await runtime.get_bus().claim(autodj, ttl_s=5) is Claim.REFUSED:
            await asyncio.sleep(0.01)
    await grace

    episode = await Episode.objects.aget()
    assert episode.ended_at is not None
    assert recorded(episode) == seconds_of_mp3[0]
    assert episode.size_bytes == len(seconds_of_mp3[0])


async def test_titles_join_the_tracklist_while_the_show_records(
    station, dj, seconds_of_mp3, settings
):
    """Heartbeats link each title as it is played, and keep the file
    written: a worker that dies keeps them."""
    settings.RADIO_RECORDING_FLUSH_SECONDS = 0.02
    settings.RADIO_RECORDING_HEARTBEAT_SECONDS = 0.02
    broadcast, _ = await start(station, dj)
    await broadcast.feed(seconds_of_mp3[0])
    await broadcast.set_now_playing(title="Early", artist="")
    for chunk in seconds_of_mp3[1:4]:
        await broadcast.feed(chunk)
        await asyncio.sleep(0.1)  # several heartbeats apart
    await broadcast.set_now_playing(title="Later", artist="")
    await broadcast.feed(seconds_of_mp3[4])

    async with asyncio.timeout(5):
        while await Play.objects.exclude(episode=None).acount() < 2:
            await asyncio.sleep(0.02)
    episode = await Episode.objects.aget()
    assert episode.ended_at is None
    offsets = [p.offset_ms async for p in episode.tracklist.order_by("offset_ms")]
    assert offsets[0] == pytest.approx(length_ms(seconds_of_mp3[0]), abs=PACKET_MS)
    assert offsets[1] == pytest.approx(
        length_ms(b"".join(seconds_of_mp3[:4])), abs=PACKET_MS
    )
    assert recorded(episode) == b"".join(seconds_of_mp3[:5])[: len(recorded(episode))]
    await broadcast.stop()
