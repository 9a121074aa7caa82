"""The AutoDJ's playout with real ffmpeg and real audio, on the in-process bus."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
import uuid
from array import array
from pathlib import Path

import pytest

from radio.protocol import NOW_PLAYING, ON_AIR
from stations.streaming.bus import AUTODJ, LIVE, Claim, Lease, LocalBus
from stations.streaming.encoder import PACKET_MS
from stations.streaming.packets import AudioPacket, now_ms
from stations.streaming.playout import (
    FRAME_BYTES,
    PCM_BYTES_PER_MS,
    Playout,
    Program,
    QueuedTrack,
    crossfade,
)
from tests.support.audio import (
    decoded_mono,
    longest_silence_ms,
    make_tone,
    tone_order,
)
from tests.support.playlists import PLAYLIST_NAMES, RequestRecorder, make_playlists
from tests.support.processes import child_processes
from tests.support.streaming import RecordingBus

STATION = 7
TONES = [440, 660, 990]
TRACK_SECONDS = 2.0
CROSSFADE_MS = 500


@pytest.fixture(scope="module")
def tracks(tmp_path_factory) -> list[QueuedTrack]:
    folder = tmp_path_factory.mktemp("library")
    return [
        QueuedTrack(
            path=str(make_tone(folder / f"{tone}.mp3", seconds=2, frequency=tone)),
            title=f"Tone {tone}",
            artist="Test Signals" if tone != 660 else "",
            duration_ms=int(TRACK_SECONDS * 1000),
            gain_db=0.0,
        )
        for tone in TONES
    ]


def playlist(tracks: list[QueuedTrack], *, rounds: int = 1):
    queue = list(tracks) * rounds

    async def next_track() -> QueuedTrack | None:
        return queue.pop(0) if queue else None

    return next_track


def autodj_lease() -> Lease:
    return Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=0, kind=AUTODJ)


def autodj_playout(bus, lease: Lease, next_track) -> Playout:
    return Playout(
        bus=bus,
        lease=lease,
        next_track=next_track,
        bitrate_kbps=128,
        crossfade_ms=CROSSFADE_MS,
    )


def tone(frequency: int, ms: int, amplitude: int = 8000) -> bytes:
    """A stereo sine tone as PCM, made without ffmpeg."""
    frames = int(44.1 * ms)
    samples = array("h")
    for index in range(frames):
        value = int(amplitude * math.sin(2 * math.pi * frequency * index / 44100))
        samples.extend((value, value))
    return samples.tobytes()


def test_crossfade_keeps_the_length_and_moves_from_one_track_to_the_next():
    tail, head = tone(440, 1000), tone(660, 500)
    mixed = crossfade(tail, head)
    assert len(mixed) == len(tail)
    # Before the overlap, the outgoing track is untouched.
    assert mixed[: len(tail) - len(head)] == tail[: len(tail) - len(head)]
    ending = array("h", mixed[-FRAME_BYTES * 32 :])
    incoming = array("h", head[-FRAME_BYTES * 32 :])
    assert max(abs(a - b) for a, b in zip(ending, incoming, strict=True)) < 300


async def test_the_program_plays_every_track_in_order_crossfaded(tracks):
    program = Program(playlist(tracks), crossfade_ms=CROSSFADE_MS)
    pcm = bytearray()
    first_heard: list[tuple[float, str]] = []
    async for piece, track in program.pcm():
        if track is not None:
            first_heard.append((len(pcm) / PCM_BYTES_PER_MS, track.title))
        pcm += piece

    expected_ms = len(TONES) * TRACK_SECONDS * 1000 - 2 * CROSSFADE_MS
    assert len(pcm) / PCM_BYTES_PER_MS == pytest.approx(expected_ms, rel=0.02)
    assert [title for _, title in first_heard] == [f"Tone {t}" for t in TONES]
    # Each next track begins where the crossfade into it begins.
    assert first_heard[1][0] == pytest.approx(2000 - CROSSFADE_MS, abs=30)
    assert first_heard[2][0] == pytest.approx(4000 - 2 * CROSSFADE_MS, abs=30)


async def test_playout_streams_the_library_at_real_time_and_announces_each_track(
    tracks,
):
    bus = RecordingBus()
    lease = autodj_lease()
    assert await bus.claim(lease, ttl_s=6) is Claim.GRANTED
    playout = autodj_playout(bus, lease, playlist(tracks))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(playout.run(), timeout=30)
    took_s = loop.time() - started

    packets = bus.packets()
    audio = b"".join(packet.frames for packet in packets)
    samples = decoded_mono(audio)
    heard_s = len(samples) / 44100
    program_s = len(TONES) * TRACK_SECONDS - 2 * CROSSFADE_MS / 1000
    assert heard_s == pytest.approx(program_s, rel=0.05)
    # Paced at real time (the encoder is fed a little ahead).
    assert took_s == pytest.approx(program_s, abs=0.6)
    assert tone_order(samples, TONES) == TONES
    # Past the encoder's own start-up, no stretch of digital silence.
    assert longest_silence_ms(samples[4410:]) < 20

    seqs = [packet.seq for packet in packets]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # Packets of about 100 ms, as a DJ's, not one per 26 ms frame: what the
    # encoder makes of each 100 ms of program (3 or 4 frames). A packet is
    # a burst of ffmpeg's output, so a busy machine may split a few.
    durations = [packet.duration_ms for packet in packets[:-1]]
    assert all(duration <= 2 * PACKET_MS for duration in durations)
    short = [duration for duration in durations if duration < 75]
    assert len(short) <= 0.05 * len(durations)
    assert statistics.fmean(durations) == pytest.approx(100, rel=0.1)
    on_air = bus.events(ON_AIR)
    assert [(e.data["on_air"], e.data["source"]) for e in on_air] == [
        (True, AUTODJ),
        (False, None),
    ]
    announced = bus.events(NOW_PLAYING)
    assert [(e.data["title"], e.data["artist"]) for e in announced] == [
        ("Tone 440", "Test Signals"),
        ("Tone 660", ""),
        ("Tone 990", "Test Signals"),
    ]
    assert {e.data["source"] for e in announced} == {AUTODJ}
    # Each title is announced with the seq of the packet where it is first
    # heard: the packet after the announcement.
    for event in announced:
        following = bus.published[bus.published.index(event) + 1]
        assert isinstance(following, AudioPacket)
        assert event.data["seq"] == following.seq
    # ... whose audio spans the point where the crossfade into the track begins
    # (give or take the encoder's delay of about 25 ms).
    starts_ms, elapsed = {}, 0.0
    for packet in packets:
        starts_ms[packet.seq] = (elapsed, elapsed + packet.duration_ms)
        elapsed += packet.duration_ms
    track_ms = TRACK_SECONDS * 1000 - CROSSFADE_MS
    crossfades_ms = {"Tone 660": track_ms, "Tone 990": 2 * track_ms}
    for event in announced[1:]:
        start, end = starts_ms[event.data["seq"]]
        assert start - 40 <= crossfades_ms[event.data["title"]] < end + 40
    # The library ran out: the lease was given back.
    assert await bus.claim(autodj_lease(), ttl_s=6) is Claim.GRANTED


async def playing(tracks) -> tuple[RecordingBus, Playout, asyncio.Task]:
    """A playout of ``tracks`` that has started publishing audio."""
    bus = RecordingBus()
    lease = autodj_lease()
    await bus.claim(lease, ttl_s=6)
    playout = autodj_playout(bus, lease, playlist(tracks, rounds=10))
    running = asyncio.get_running_loop().create_task(playout.run())
    while not bus.packets():
        bus.arrived.clear()
        await bus.arrived.wait()
    return bus, playout, running


async def packets_after(bus: RecordingBus, count: int) -> list[AudioPacket]:
    """The next ``count`` packets the playout publishes."""
    seen = len(bus.packets())
    while len(bus.packets()) < seen + count:
        bus.arrived.clear()
        await bus.arrived.wait()
    return bus.packets()[seen : seen + count]


async def test_after_a_stall_the_audio_keeps_its_ingest_times(tracks, monkeypatch):
    """A worker that stops for over a second (a paused machine) starts its pace
    again from then; its packets' ingest times keep the lag behind the clock
    they had, rather than seeming the encoder's lead (0.3 s) older from then on."""
    bus, playout, running = await playing(tracks)
    lag_ms: dict[int, int] = {}
    publish = bus.publish

    async def timed(station_id, item, *, lease=None):
        if isinstance(item, AudioPacket):
            lag_ms[item.seq] = now_ms() - item.ingest_ms
        return await publish(station_id, item, lease=lease)

    monkeypatch.setattr(bus, "publish", timed)
    before = [lag_ms[p.seq] for p in await packets_after(bus, 10)]
    time.sleep(1.5)  # the stall itself: the worker's loop does nothing
    await packets_after(bus, 15)
    after = [lag_ms[p.seq] for p in await packets_after(bus, 10)]
    playout.hand_over()
    await asyncio.wait_for(running, timeout=5)
    assert abs(statistics.median(after) - statistics.median(before)) < 100, (
        before,
        after,
    )


async def test_a_live_dj_takes_the_station_and_the_playout_stops_at_once(tracks):
    bus, _, running = await playing(tracks)

    dj = Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=42, kind=LIVE)
    assert await bus.claim(dj, ttl_s=6) is Claim.GRANTED
    published_before = len(bus.published)
    await asyncio.wait_for(running, timeout=1.0)

    assert len(bus.published) == published_before
    # The playout does not take the station off air: the DJ has it now.
    assert [e.data["on_air"] for e in bus.events(ON_AIR)] == [True]
    assert await bus.renew(dj, ttl_s=6)


async def test_a_handed_over_playout_gives_the_station_up_still_on_air(tracks):
    """A stopping worker's playout ends soon, releases the lease for another
    AutoDJ to take at once, and does not say the station went off air."""
    bus, playout, running = await playing(tracks)

    playout.hand_over()
    await asyncio.wait_for(running, timeout=5)
    assert [e.data["on_air"] for e in bus.events(ON_AIR)] == [True]
    assert await bus.claim(autodj_lease(), ttl_s=6) is Claim.GRANTED
    assert not child_processes("ffmpeg")


async def test_the_autodj_never_takes_a_live_dj_s_station_but_fills_a_dropped_one():
    bus = LocalBus(burst_seconds=2.5)
    dj = Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=42, kind=LIVE)
    await bus.claim(dj, ttl_s=6)
    assert await bus.claim(autodj_lease(), ttl_s=6) is Claim.REFUSED
    await bus.suspend(dj, grace_s=5)
    autodj = autodj_lease()
    assert await bus.claim(autodj, ttl_s=6) is Claim.GRANTED
    # The DJ coming back takes the station back from the AutoDJ.
    again = Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=42, kind=LIVE)
    assert await bus.claim(again, ttl_s=6) is Claim.GRANTED
    assert not await bus.renew(autodj, ttl_s=6)


async def test_unplayable_tracks_are_skipped_and_no_ffmpeg_is_left(tmp_path, tracks):
    broken = tmp_path / "broken.mp3"
    broken.write_text("not audio at all")
    bad = QueuedTrack(
        path=str(broken), title="Broken", artist="", duration_ms=2000, gain_db=0
    )
    program = Program(playlist([bad, tracks[0]]), crossfade_ms=CROSSFADE_MS)
    heard = [(len(pcm), track) async for pcm, track in program.pcm()]
    # The broken track is never heard, so never announced; the next one is.
    assert [track.title for _, track in heard if track] == ["Tone 440"]
    heard_ms = sum(size for size, _ in heard) / PCM_BYTES_PER_MS
    assert heard_ms == pytest.approx(TRACK_SECONDS * 1000, rel=0.02)
    assert child_processes("ffmpeg") == []


@pytest.mark.parametrize("name", PLAYLIST_NAMES)
async def test_a_playlist_in_the_library_is_unplayable_and_opens_nothing(
    tmp_path, tracks, name
):
    """ffmpeg plays no file or URL a playlist lists, and the next track plays."""
    with RequestRecorder() as server:
        path = make_playlists(tmp_path, audio=Path(tracks[1].path), url=server.url)
        bad = QueuedTrack(
            path=str(path[name]),
            title="Playlist",
            artist="",
            duration_ms=3000,
            gain_db=0,
        )
        program = Program(playlist([bad, tracks[0]]), crossfade_ms=CROSSFADE_MS)
        heard = [(len(pcm), track) async for pcm, track in program.pcm()]
    assert [track.title for _, track in heard if track] == ["Tone 440"]
    heard_ms = sum(size for size, _ in heard) / PCM_BYTES_PER_MS
    assert heard_ms == pytest.approx(TRACK_SECONDS * 1000, rel=0.02)
    assert server.connections == []
    assert child_processes("ffmpeg") == []


async def test_an_empty_library_stays_off_air_and_gives_the_station_back():
    bus = RecordingBus()
    lease = autodj_lease()
    await bus.claim(lease, ttl_s=6)
    playout = autodj_playout(bus, lease, playlist([]))
    await asyncio.wait_for(playout.run(), timeout=5)
    assert bus.published == []
    assert await bus.claim(autodj_lease(), ttl_s=6) is Claim.GRANTED
