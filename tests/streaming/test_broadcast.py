"""A DJ's turn on air, through Broadcast's public API on the in-process bus.

What a broadcast does is read where listeners see it: on a listener of the
station's hub, and in the bus's state and leases.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from radio.protocol import NOW_PLAYING, ON_AIR
from stations.streaming.broadcast import (
    Broadcast,
    BroadcastSettings,
    BroadcastTooFast,
    OnAir,
)
from stations.streaming.bus import (
    AUTODJ,
    LEASE_TTL_S,
    LIVE,
    BusUnavailable,
    Claim,
    Lease,
    LocalBus,
)
from stations.streaming.ingest import UnsupportedFormat
from stations.streaming.packets import HEADER_BYTES, parse_header
from tests.support.audio import frames_duration_ms
from tests.support.processes import child_processes
from tests.support.streaming import ARRIVAL_TIMEOUT_S, recorded_listener

STATION = 3
DJ = 1
OTHER_DJ = 2
CHUNK_BYTES = 4096
ON_AIR_AS = OnAir(dj="dj", name="Night Shift", genre="Jazz")
SETTINGS = BroadcastSettings(
    bitrate_kbps=128, idle_timeout_s=30.0, reconnect_grace_s=0.3
)


class WatchedBus(LocalBus):
    """The in-process bus, telling when a lease is suspended."""

    def __init__(self) -> None:
        super().__init__(burst_seconds=1.0)
        self.suspended = asyncio.Event()

    async def suspend(self, lease: Lease, *, grace_s: float) -> None:
        await super().suspend(lease, grace_s=grace_s)
        self.suspended.set()


@pytest.fixture
async def bus():
    bus = WatchedBus()
    yield bus
    await bus.aclose()


@pytest.fixture
async def heard(bus):
    """What a listener of the station hears: the hub's output, recorded."""
    hub = await bus.attach(STATION)
    listener, transport = recorded_listener()
    hub.join(listener)
    yield transport
    hub.leave(listener)


class Broadcasts:
    """Makes broadcasts; stops them all, and their suspends, after the test."""

    def __init__(self, bus: WatchedBus) -> None:
        self.bus = bus
        self.made: list[Broadcast] = []
        self.lost: list[str] = []
        self.lost_event = asyncio.Event()

    def new(self, user_id: int = DJ, settings: BroadcastSettings = SETTINGS):
        broadcast = Broadcast(
            bus=self.bus,
            station_id=STATION,
            user_id=user_id,
            on_air=ON_AIR_AS,
            settings=settings,
            on_lost=self._on_lost,
        )
        self.made.append(broadcast)
        return broadcast

    def _on_lost(self, why: str) -> None:
        self.lost.append(why)
        self.lost_event.set()


@pytest.fixture
async def broadcasts(bus):
    made = Broadcasts(bus)
    yield made
    for broadcast in made.made:
        await broadcast.stop()


async def feed(broadcast: Broadcast, data: bytes) -> None:
    for start in range(0, len(data), CHUNK_BYTES):
        await broadcast.feed(data[start : start + CHUNK_BYTES])


def packet_seqs(heard) -> list[int]:
    return [parse_header(message)[0] for message in heard.binaries()]


def heard_ms(heard) -> float:
    return sum(frames_duration_ms(m[HEADER_BYTES:]) for m in heard.binaries())


def on_air_events(heard) -> list[dict]:
    return [event for event in heard.events() if event["type"] == ON_AIR]


async def claim_as_autodj(bus) -> Claim:
    lease = Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=0, kind=AUTODJ)
    return await bus.claim(lease, ttl_s=LEASE_TTL_S)


async def test_start_claims_the_station_and_goes_on_air(bus, heard, broadcasts):
    """A DJ starting on a free station goes on air as the live source."""
    broadcast = broadcasts.new()
    assert await broadcast.start("audio/mpeg") is Claim.GRANTED
    assert broadcast.live is True
    [on_air] = on_air_events(heard)
    assert (on_air["on_air"], on_air["source"]) == (True, LIVE)
    assert on_air["broadcast"] == {
        **asdict(ON_AIR_AS),
        "started_at": on_air["broadcast"]["started_at"],
    }
    assert datetime.fromisoformat(on_air["broadcast"]["started_at"]) <= datetime.now(
        UTC
    )
    state = await bus.state(STATION)
    assert (state["source"], state["broadcast"]) == (LIVE, on_air["broadcast"])
    assert await claim_as_autodj(bus) is Claim.REFUSED


async def test_fed_audio_is_published_whole_and_in_order(
    bus, heard, broadcasts, tone_mp3
):
    """Every frame the DJ sends reaches listeners once, in numbered packets."""
    broadcast = broadcasts.new()
    await broadcast.start("audio/mpeg")
    await feed(broadcast, tone_mp3)
    seqs = packet_seqs(heard)
    assert seqs == list(range(1, len(seqs) + 1))
    frames = b"".join(m[HEADER_BYTES:] for m in heard.binaries())
    assert tone_mp3.endswith(frames)
    assert heard_ms(heard) == pytest.approx(6000, abs=60)


async def test_a_second_dj_is_refused_and_changes_nothing(bus, heard, broadcasts):
    """While one DJ is live another's start is REFUSED and publishes nothing."""
    first, second = broadcasts.new(DJ), broadcasts.new(OTHER_DJ)
    await first.start("audio/mpeg")
    assert await second.start("audio/mpeg") is Claim.REFUSED
    assert second.live is False
    with pytest.raises(RuntimeError):
        await second.feed(b"\xff\xfb")
    await second.stop()
    assert len(on_air_events(heard)) == 1
    assert (await bus.state(STATION))["on_air"] is True


async def test_an_unsupported_format_claims_nothing(bus, broadcasts):
    """start() refuses a format before it claims the station."""
    broadcast = broadcasts.new()
    with pytest.raises(UnsupportedFormat):
        await broadcast.start("video/mp4")
    assert await claim_as_autodj(bus) is Claim.GRANTED


async def test_resuming_within_the_grace_period_carries_on(
    bus, heard, broadcasts, tone_mp3
):
    """The same DJ back within the grace is RESUMED: no off air, seq goes on."""
    dropped = broadcasts.new(DJ)
    await dropped.start("audio/mpeg")
    await feed(dropped, tone_mp3[: len(tone_mp3) // 2])
    before = packet_seqs(heard)

    grace = asyncio.create_task(dropped.suspend())
    await bus.suspended.wait()
    back = broadcasts.new(DJ)
    assert await back.start("audio/mpeg") is Claim.RESUMED
    await grace
    await feed(back, tone_mp3)

    assert [event["on_air"] for event in on_air_events(heard)] == [True]
    seqs = packet_seqs(heard)
    assert seqs[: len(before)] == before
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > len(before)
    assert (await bus.state(STATION))["on_air"] is True


@pytest.mark.parametrize(("flush", "all_heard"), [(True, True), (False, False)])
async def test_a_suspend_after_a_clean_end_flushes_what_the_ingest_holds(
    bus, heard, broadcasts, tone_webm, flush, all_heard
):
    """An encoder whose body ended cleanly has all its audio heard; a dropped
    connection's leftovers in the transcoder are not waited for."""
    ended = broadcasts.new(DJ)
    await ended.start("audio/webm")
    await feed(ended, tone_webm)
    await ended.suspend(flush=flush)
    assert (heard_ms(heard) == pytest.approx(6000, abs=150)) is all_heard


async def test_a_handed_over_broadcast_is_kept_for_its_dj_to_resume(
    bus, heard, broadcasts, tone_mp3
):
    """A stopping worker's broadcast is suspended at once and let go there:
    its DJ resumes it, seq going on; the station never went off air."""
    leaving = broadcasts.new(DJ)
    await leaving.start("audio/mpeg")
    await feed(leaving, tone_mp3[: len(tone_mp3) // 2])
    await leaving.hand_over()
    assert leaving.live is False
    assert await broadcasts.new(OTHER_DJ).start("audio/mpeg") is Claim.REFUSED
    back = broadcasts.new(DJ)
    assert await back.start("audio/mpeg") is Claim.RESUMED
    await feed(back, tone_mp3)

    assert [event["on_air"] for event in on_air_events(heard)] == [True]
    seqs = packet_seqs(heard)
    assert seqs == list(range(1, len(seqs) + 1))


async def test_another_dj_cannot_take_a_suspended_broadcast(bus, broadcasts):
    """During the grace the station is kept for its own DJ only."""
    dropped = broadcasts.new(DJ)
    await dropped.start("audio/mpeg")
    grace = asyncio.create_task(dropped.suspend())
    await bus.suspended.wait()
    other = broadcasts.new(OTHER_DJ)
    try:
        assert await other.start("audio/mpeg") is Claim.REFUSED
    finally:
        await grace


async def test_the_station_goes_off_air_when_the_grace_runs_out(bus, heard, broadcasts):
    """A dropped DJ who does not come back ends the broadcast and frees the lease."""
    dropped = broadcasts.new(DJ)
    await dropped.start("audio/mpeg")
    await dropped.suspend()
    assert dropped.live is False
    assert on_air_events(heard)[-1] == {
        "type": ON_AIR,
        "on_air": False,
        "source": None,
        "broadcast": None,
    }
    assert (await bus.state(STATION))["on_air"] is False
    assert await claim_as_autodj(bus) is Claim.GRANTED


async def test_a_quiet_dj_is_taken_off_air(bus, heard, broadcasts):
    """No audio for idle_timeout_s ends the broadcast and says why."""
    quick = BroadcastSettings(
        bitrate_kbps=128, idle_timeout_s=0.05, reconnect_grace_s=0.3
    )
    broadcast = broadcasts.new(DJ, quick)
    await broadcast.start("audio/mpeg")
    ended = []
    broadcast.when_ended(lambda: ended.append(broadcasts.lost[:]))
    # The lease keeper looks every LEASE_TTL_S / 3.
    await asyncio.wait_for(
        broadcasts.lost_event.wait(), LEASE_TTL_S + ARRIVAL_TIMEOUT_S
    )
    assert broadcasts.lost == ["idle"]
    assert ended == [[]], "told once, before on_lost"
    assert broadcast.live is False
    assert on_air_events(heard)[-1]["on_air"] is False
    assert await claim_as_autodj(bus) is Claim.GRANTED


async def test_audio_faster_than_the_pace_is_refused(bus, heard, broadcasts, tone_mp3):
    """Past the head start BroadcastTooFast is raised and nothing more is sent."""
    head_start_s, speed = 1.0, 1.0
    strict = BroadcastSettings(
        bitrate_kbps=128,
        idle_timeout_s=30.0,
        reconnect_grace_s=0.3,
        audio_head_start_s=head_start_s,
        max_audio_speed=speed,
    )
    broadcast = broadcasts.new(DJ, strict)
    await broadcast.start("audio/mpeg")
    started = time.monotonic()
    with pytest.raises(BroadcastTooFast):
        await feed(broadcast, tone_mp3)
    elapsed_s = time.monotonic() - started
    sent = len(heard.binaries())

    with pytest.raises(BroadcastTooFast):
        await broadcast.feed(tone_mp3[-CHUNK_BYTES:])
    assert len(heard.binaries()) == sent
    assert 0 < heard_ms(heard) <= (head_start_s + elapsed_s * speed) * 1000


async def test_now_playing_names_the_next_packet(bus, heard, broadcasts, tone_mp3):
    """A title set after some audio starts at the packet after it."""
    broadcast = broadcasts.new()
    await broadcast.start("audio/mpeg")
    await feed(broadcast, tone_mp3[: CHUNK_BYTES * 4])
    last = packet_seqs(heard)[-1]
    await broadcast.set_now_playing(title="Song", artist="Band")
    await feed(broadcast, tone_mp3[CHUNK_BYTES * 4 : CHUNK_BYTES * 8])

    [title] = [e for e in heard.events() if e["type"] == NOW_PLAYING]
    assert (title["title"], title["artist"], title["source"]) == ("Song", "Band", LIVE)
    assert title["seq"] == last + 1
    assert last + 1 in packet_seqs(heard)
    assert (await bus.state(STATION))["now_playing"]["title"] == "Song"


async def test_stop_goes_off_air_and_releases_the_station(bus, heard, broadcasts):
    """After stop() the station is off air and another DJ may start at once."""
    broadcast = broadcasts.new(DJ)
    await broadcast.start("audio/mpeg")
    await broadcast.stop()
    assert broadcast.live is False
    assert on_air_events(heard)[-1] == {
        "type": ON_AIR,
        "on_air": False,
        "source": None,
        "broadcast": None,
    }
    assert await broadcasts.new(OTHER_DJ).start("audio/mpeg") is Claim.GRANTED


async def test_a_new_broadcast_numbers_on_from_the_last_packet(
    bus, heard, broadcasts, tone_mp3
):
    """A later broadcast on the station starts after the last seq sent."""
    first = broadcasts.new(DJ)
    await first.start("audio/mpeg")
    await feed(first, tone_mp3[: CHUNK_BYTES * 4])
    await first.stop()
    last = packet_seqs(heard)[-1]

    second = broadcasts.new(OTHER_DJ)
    await second.start("audio/mpeg")
    await feed(second, tone_mp3[: CHUNK_BYTES * 4])
    assert packet_seqs(heard)[-1] > last
    assert packet_seqs(heard) == list(range(1, packet_seqs(heard)[-1] + 1))


@pytest.mark.parametrize("end", ["stop", "suspend"])
async def test_when_ended_is_told_once_whichever_way_the_broadcast_ends(
    bus, broadcasts, end
):
    """A suspended broadcast counts as ended: a DJ who resumes has a new one."""
    broadcast = broadcasts.new(DJ)
    await broadcast.start("audio/mpeg")
    ended = []
    broadcast.when_ended(lambda: ended.append(end))
    await getattr(broadcast, end)()
    await broadcast.stop()
    assert ended == [end]


class UnreachableBus(WatchedBus):
    """A bus whose every lease call fails, as a RedisBus without Redis."""

    async def claim(self, lease, *, ttl_s):
        raise BusUnavailable("Connection refused")

    async def suspend(self, lease, *, grace_s):
        raise BusUnavailable("Connection refused")


async def test_a_claim_that_raises_leaves_no_ffmpeg(broadcasts):
    """The transcoder started for the DJ's format goes with the failed claim."""
    broadcasts.bus = UnreachableBus()
    with pytest.raises(BusUnavailable):
        await broadcasts.new(DJ).start("audio/webm")
    assert child_processes("ffmpeg") == []
    await broadcasts.bus.aclose()


async def test_a_suspend_without_the_bus_still_closes_the_ingest(
    bus, broadcasts, tone_webm, monkeypatch
):
    """A dropped DJ's ffmpeg is gone even when the bus cannot be told."""
    dropped = broadcasts.new(DJ)
    await dropped.start("audio/webm")
    await feed(dropped, tone_webm[: CHUNK_BYTES * 4])
    assert len(child_processes("ffmpeg")) == 1
    monkeypatch.setattr(bus, "suspend", UnreachableBus.suspend.__get__(bus))
    await dropped.suspend()
    assert child_processes("ffmpeg") == []


async def test_a_suspend_whose_recording_fails_still_closes_the_ingest(
    bus, broadcasts, tone_webm
):
    """Whatever fails while the DJ's connection drops, ffmpeg goes."""

    class BrokenRecorder:
        async def pause(self) -> None:
            raise OSError("disk full")

        async def finish(self) -> None:
            pass

    dropped = broadcasts.new(DJ)
    await dropped.start("audio/webm")
    dropped.recorder = BrokenRecorder()
    await feed(dropped, tone_webm[: CHUNK_BYTES * 4])
    with pytest.raises(OSError):
        await dropped.suspend()
    assert child_processes("ffmpeg") == []
