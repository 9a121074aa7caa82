"""Leases and publishing, the same on the in-process bus and on Redis.

The lease table runs against ``claim_answer``, ``LocalBus`` and
``RedisBus`` (whose Lua claim script restates ``claim_answer``), so the
three cannot drift apart.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from radio.protocol import ON_AIR
from stations.streaming.bus import (
    AUTODJ,
    JANITOR,
    LEASE_TTL_S,
    LIVE,
    SERVER_USER_ID,
    Claim,
    Lease,
    LocalBus,
    claim_answer,
)
from stations.streaming.hub import now_playing_event, on_air_event
from stations.streaming.packets import AudioPacket, Event
from stations.streaming.redis_bus import RedisBus
from tests.support.streaming import recorded_listener

BURST_S = 1.0
# The bus's look-after-stations tick; short, so an orphan is noticed at once.
COUNT_INTERVAL_S = 0.05
# A lease made to expire, and how long to let pass for it to.
SHORT_TTL_S = 0.05
EXPIRY_WAIT_S = 0.15

DJ = 1
OTHER_DJ = 2

_station_ids = itertools.count(1000)

# held (kind, user, state) -> wanted (kind, user) -> answer; state is
# "held", "suspended", "expired" (held, then left to time out) or
# "suspended_expired" (suspended, then its grace ran out).
FREE = (None, None, "free")
LIVE_DJ = (LIVE, DJ)
LIVE_OTHER = (LIVE, OTHER_DJ)
THE_AUTODJ = (AUTODJ, SERVER_USER_ID)
THE_JANITOR = (JANITOR, SERVER_USER_ID)

LEASE_CASES = [
    (FREE, LIVE_DJ, Claim.GRANTED),
    (FREE, THE_AUTODJ, Claim.GRANTED),
    (FREE, THE_JANITOR, Claim.GRANTED),
    ((*LIVE_DJ, "held"), LIVE_DJ, Claim.REFUSED),
    ((*LIVE_DJ, "held"), LIVE_OTHER, Claim.REFUSED),
    ((*LIVE_DJ, "held"), THE_AUTODJ, Claim.REFUSED),
    ((*LIVE_DJ, "held"), THE_JANITOR, Claim.REFUSED),
    ((*LIVE_DJ, "suspended"), LIVE_DJ, Claim.RESUMED),
    ((*LIVE_DJ, "suspended"), LIVE_OTHER, Claim.REFUSED),
    ((*LIVE_DJ, "suspended"), THE_AUTODJ, Claim.GRANTED),
    ((*LIVE_DJ, "suspended"), THE_JANITOR, Claim.REFUSED),
    ((*LIVE_DJ, "expired"), LIVE_DJ, Claim.GRANTED),
    ((*LIVE_DJ, "expired"), LIVE_OTHER, Claim.GRANTED),
    ((*LIVE_DJ, "expired"), THE_AUTODJ, Claim.GRANTED),
    ((*LIVE_DJ, "expired"), THE_JANITOR, Claim.GRANTED),
    ((*LIVE_DJ, "suspended_expired"), LIVE_DJ, Claim.GRANTED),
    ((*LIVE_DJ, "suspended_expired"), LIVE_OTHER, Claim.GRANTED),
    ((*THE_AUTODJ, "held"), LIVE_DJ, Claim.GRANTED),
    ((*THE_AUTODJ, "held"), THE_AUTODJ, Claim.REFUSED),
    ((*THE_AUTODJ, "held"), THE_JANITOR, Claim.REFUSED),
    ((*THE_AUTODJ, "suspended"), LIVE_DJ, Claim.GRANTED),
    ((*THE_AUTODJ, "suspended"), THE_AUTODJ, Claim.GRANTED),
    ((*THE_AUTODJ, "suspended"), THE_JANITOR, Claim.REFUSED),
    ((*THE_AUTODJ, "expired"), THE_JANITOR, Claim.GRANTED),
    ((*THE_JANITOR, "held"), LIVE_DJ, Claim.REFUSED),
    ((*THE_JANITOR, "held"), THE_AUTODJ, Claim.REFUSED),
    ((*THE_JANITOR, "held"), THE_JANITOR, Claim.REFUSED),
]


def _case_id(case) -> str:
    (held_kind, held_user, state), (kind, user), answer = case
    held = "free" if held_kind is None else f"{held_kind}{held_user}-{state}"
    return f"{held}-wants-{kind}{user}-{answer.value}"


lease_cases = pytest.mark.parametrize(
    "held, wanted, answer", LEASE_CASES, ids=[_case_id(c) for c in LEASE_CASES]
)


def new_lease(station_id: int, kind: str, user_id: int) -> Lease:
    return Lease(
        station_id=station_id, token=uuid.uuid4().hex, user_id=user_id, kind=kind
    )


def packet(seq: int) -> AudioPacket:
    return AudioPacket.build(seq=seq, ingest_ms=0, duration_ms=100, frames=b"mp3")


@pytest.fixture
def station_id() -> int:
    return next(_station_ids)


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def bus_url(request) -> str | None:
    """None for the in-process bus, else the test Redis."""
    return None if request.param == "local" else request.getfixturevalue("redis_url")


@pytest.fixture
async def bus(bus_url):
    """The in-process bus, then the Redis bus; closed after the test."""
    options = {"burst_seconds": BURST_S, "count_interval_s": COUNT_INTERVAL_S}
    bus = LocalBus(**options) if bus_url is None else RedisBus(bus_url, **options)
    yield bus
    await bus.aclose()


# --- The lease table -------------------------------------------------------


@lease_cases
def test_claim_answer_follows_the_lease_table(held, wanted, answer):
    """claim_answer gives each case of the table its answer."""
    held_kind, held_user, state = held
    held_lease = None
    if state in ("held", "suspended"):
        held_lease = new_lease(1, held_kind, held_user)
    wanted_lease = new_lease(1, *wanted)
    assert claim_answer(held_lease, state == "suspended", wanted_lease) is answer


# A live DJ's lease whose holding process died: wanted -> answer.
HOLDER_GONE_CASES = [
    (LIVE_DJ, Claim.RESUMED),
    (LIVE_OTHER, Claim.REFUSED),
    (THE_AUTODJ, Claim.REFUSED),
    (THE_JANITOR, Claim.REFUSED),
]


@pytest.mark.parametrize("wanted, answer", HOLDER_GONE_CASES)
def test_only_the_same_dj_takes_a_lease_whose_holder_is_gone(wanted, answer):
    """A DJ takes their own live lease back from a dead process; nobody else
    does before it expires."""
    held = new_lease(1, *LIVE_DJ)
    wanted_lease = new_lease(1, *wanted)
    assert claim_answer(held, False, wanted_lease, holder_gone=True) is answer


async def hold(bus, station_id: int, held) -> Lease | None:
    """Put the station in the ``held`` state of a lease-table case."""
    kind, user, state = held
    if kind is None:
        return None
    lease = new_lease(station_id, kind, user)
    ttl_s = SHORT_TTL_S if state == "expired" else LEASE_TTL_S
    assert await bus.claim(lease, ttl_s=ttl_s) is Claim.GRANTED
    if state.startswith("suspended"):
        grace_s = SHORT_TTL_S if state == "suspended_expired" else LEASE_TTL_S
        await bus.suspend(lease, grace_s=grace_s)
    if state.endswith("expired"):
        # Time must pass for a lease to expire; nothing else to wait for.
        await asyncio.sleep(EXPIRY_WAIT_S)
    return lease


@lease_cases
async def test_the_bus_follows_the_lease_table(bus, station_id, held, wanted, answer):
    """Each bus answers each case of the table, and the winner holds the station."""
    held_lease = await hold(bus, station_id, held)
    wanted_lease = new_lease(station_id, *wanted)

    assert await bus.claim(wanted_lease, ttl_s=LEASE_TTL_S) is answer

    holder = held_lease if answer is Claim.REFUSED else wanted_lease
    loser = wanted_lease if answer is Claim.REFUSED else held_lease
    assert await bus.renew(holder, ttl_s=LEASE_TTL_S) is True
    if loser is not None:
        assert await bus.renew(loser, ttl_s=LEASE_TTL_S) is False


# --- Renew, suspend, release ---------------------------------------------------


async def test_renew_is_refused_to_a_lease_that_never_held(bus, station_id):
    """Only the holder's own token renews, not another lease of the same user."""
    held = new_lease(station_id, LIVE, DJ)
    await bus.claim(held, ttl_s=LEASE_TTL_S)
    assert await bus.renew(new_lease(station_id, LIVE, DJ), ttl_s=LEASE_TTL_S) is False
    assert await bus.renew(held, ttl_s=LEASE_TTL_S) is True


async def test_renew_keeps_the_station_past_the_first_ttl(bus, station_id):
    """A renewed lease outlives the TTL it was claimed with."""
    held = new_lease(station_id, LIVE, DJ)
    await bus.claim(held, ttl_s=SHORT_TTL_S)
    assert await bus.renew(held, ttl_s=LEASE_TTL_S) is True
    await asyncio.sleep(EXPIRY_WAIT_S)
    assert await bus.claim(new_lease(station_id, *THE_AUTODJ), ttl_s=LEASE_TTL_S) is (
        Claim.REFUSED
    )


async def test_release_gives_the_station_up_once(bus, station_id):
    """release is True for the holder, then False; anyone may claim after."""
    held = new_lease(station_id, LIVE, DJ)
    await bus.claim(held, ttl_s=LEASE_TTL_S)
    assert await bus.release(new_lease(station_id, LIVE, DJ)) is False
    assert await bus.release(held) is True
    assert await bus.release(held) is False
    assert await bus.claim(new_lease(station_id, *THE_JANITOR), ttl_s=LEASE_TTL_S) is (
        Claim.GRANTED
    )


async def test_suspend_by_another_lease_changes_nothing(bus, station_id):
    """A lease that does not hold the station cannot suspend it."""
    held = new_lease(station_id, LIVE, DJ)
    await bus.claim(held, ttl_s=LEASE_TTL_S)
    await bus.suspend(new_lease(station_id, LIVE, DJ), grace_s=LEASE_TTL_S)
    assert await bus.claim(new_lease(station_id, LIVE, DJ), ttl_s=LEASE_TTL_S) is (
        Claim.REFUSED
    )


async def test_a_suspended_lease_renewed_by_its_holder_stays_suspended(bus, station_id):
    """renew only extends: the DJ may still resume after their own renew."""
    held = new_lease(station_id, LIVE, DJ)
    await bus.claim(held, ttl_s=LEASE_TTL_S)
    await bus.suspend(held, grace_s=LEASE_TTL_S)
    assert await bus.renew(held, ttl_s=LEASE_TTL_S) is True
    assert await bus.claim(new_lease(station_id, LIVE, DJ), ttl_s=LEASE_TTL_S) is (
        Claim.RESUMED
    )


# --- A holder that died ----------------------------------------------------


@pytest.mark.redis
async def test_a_dj_takes_their_lease_back_from_a_process_that_died(
    redis_url, station_id
):
    """Once the holding process's connections are gone, the same DJ's claim
    on another process resumes at once; another DJ is still refused."""
    options = {"burst_seconds": BURST_S}
    dead, alive = RedisBus(redis_url, **options), RedisBus(redis_url, **options)
    try:
        held = new_lease(station_id, *LIVE_DJ)
        assert await dead.claim(held, ttl_s=LEASE_TTL_S) is Claim.GRANTED
        await dead.aclose()
        other = new_lease(station_id, *LIVE_OTHER)
        assert await alive.claim(other, ttl_s=LEASE_TTL_S) is Claim.REFUSED
        back = new_lease(station_id, *LIVE_DJ)
        assert await alive.claim(back, ttl_s=LEASE_TTL_S) is Claim.RESUMED
        assert await alive.renew(back, ttl_s=LEASE_TTL_S) is True
    finally:
        await alive.aclose()


@pytest.mark.redis
async def test_a_second_console_of_a_dj_live_on_a_living_process_is_refused(
    redis_url, station_id
):
    """The same DJ claiming while their lease is held by a process that
    lives (and renews it) is refused, on that process and on another."""
    options = {"burst_seconds": BURST_S}
    holder, other = RedisBus(redis_url, **options), RedisBus(redis_url, **options)
    try:
        held = new_lease(station_id, *LIVE_DJ)
        assert await holder.claim(held, ttl_s=LEASE_TTL_S) is Claim.GRANTED
        for bus in (holder, other):
            second = new_lease(station_id, *LIVE_DJ)
            assert await bus.claim(second, ttl_s=LEASE_TTL_S) is Claim.REFUSED
        assert await holder.renew(held, ttl_s=LEASE_TTL_S) is True
    finally:
        await holder.aclose()
        await other.aclose()


# --- Publishing ------------------------------------------------------------


async def test_publish_is_refused_once_another_takes_the_lease(bus, station_id):
    """The AutoDJ's packets stop the moment a DJ takes over; seq is the DJ's."""
    autodj = new_lease(station_id, *THE_AUTODJ)
    assert await bus.last_seq(station_id) is None
    await bus.claim(autodj, ttl_s=LEASE_TTL_S)
    assert await bus.publish(station_id, packet(5), lease=autodj) is True
    assert await bus.last_seq(station_id) == 5

    dj = new_lease(station_id, LIVE, DJ)
    assert await bus.claim(dj, ttl_s=LEASE_TTL_S) is Claim.GRANTED
    assert await bus.publish(station_id, packet(6), lease=autodj) is False
    assert await bus.last_seq(station_id) == 5
    assert await bus.publish(station_id, packet(7), lease=dj) is True
    assert await bus.last_seq(station_id) == 7


async def test_publish_after_release_is_refused(bus, station_id):
    """A released lease publishes nothing, not even its off-air event."""
    lease = new_lease(station_id, *THE_AUTODJ)
    await bus.claim(lease, ttl_s=LEASE_TTL_S)
    await bus.release(lease)
    off_air = on_air_event(on_air=False, source=None)
    assert await bus.publish(station_id, off_air, lease=lease) is False


async def test_publish_without_a_lease_is_always_sent(bus, station_id):
    """Chat and moderation publish with no lease, whoever holds the station."""
    await bus.claim(new_lease(station_id, LIVE, DJ), ttl_s=LEASE_TTL_S)
    hub = await bus.attach(station_id)
    listener, transport = recorded_listener()
    hub.join(listener)
    chat = {"type": "chat", "id": 1, "text": "hello"}
    assert await bus.publish(station_id, Event.build(chat)) is True
    assert await transport.next_event("chat") == chat
    hub.leave(listener)


async def test_published_items_reach_an_attached_hub_in_order(bus, station_id):
    """A listener of the station's hub gets events and packets as published."""
    hub = await bus.attach(station_id)
    listener, transport = recorded_listener()
    hub.join(listener)
    lease = new_lease(station_id, LIVE, DJ)
    await bus.claim(lease, ttl_s=LEASE_TTL_S)

    await bus.publish(station_id, on_air_event(on_air=True, source=LIVE), lease=lease)
    await bus.publish(station_id, packet(1), lease=lease)
    await bus.publish(station_id, packet(2), lease=lease)

    arrived = [await transport.next_message() for _ in range(3)]
    assert arrived[1:] == [packet(1).wire, packet(2).wire]
    assert isinstance(arrived[0], str)
    assert '"on_air":true' in arrived[0]
    hub.leave(listener)


async def test_state_follows_on_air_and_now_playing(bus, station_id):
    """state() is off air at first, then says what the producer announced."""
    assert await bus.state(station_id) == {
        "on_air": False,
        "source": None,
        "broadcast": None,
        "now_playing": None,
    }
    lease = new_lease(station_id, LIVE, DJ)
    await bus.claim(lease, ttl_s=LEASE_TTL_S)
    title = now_playing_event(title="Song", artist="Band", source=LIVE, seq=3)
    broadcast = {"dj": "dj", "name": "Night Shift", "started_at": "2026-11-30T20:00"}
    on_air = on_air_event(on_air=True, source=LIVE, broadcast=broadcast)
    await bus.publish(station_id, on_air, lease=lease)
    await bus.publish(station_id, title, lease=lease)

    state = await bus.state(station_id)
    assert state["on_air"] is True
    assert state["source"] == LIVE
    assert state["broadcast"] == broadcast
    expected = {k: v for k, v in title.data.items() if k != "type"}
    assert state["now_playing"] == expected

    await bus.publish(station_id, on_air_event(on_air=False, source=None), lease=lease)
    assert await bus.state(station_id) == {
        "on_air": False,
        "source": None,
        "broadcast": None,
        "now_playing": None,
    }


async def test_the_last_listener_leaving_keeps_the_producers_state(bus, station_id):
    """A station stays on air, with its title, when its last listener of
    this process leaves while a producer holds it."""
    lease = new_lease(station_id, LIVE, DJ)
    await bus.claim(lease, ttl_s=LEASE_TTL_S)
    await bus.publish(station_id, on_air_event(on_air=True, source=LIVE), lease=lease)
    title = now_playing_event(title="Song", artist="Band", source=LIVE, seq=1)
    await bus.publish(station_id, title, lease=lease)
    hub = await bus.attach(station_id)
    listener, _ = recorded_listener()
    hub.join(listener)
    hub.leave(listener)
    await bus.detach(station_id)

    state = await bus.state(station_id)
    assert state["on_air"] is True
    assert state["now_playing"]["title"] == "Song"


async def test_a_new_producer_on_air_clears_the_last_ones_title(bus, station_id):
    """A DJ taking over from the AutoDJ: its track's title is no longer on."""
    autodj = new_lease(station_id, *THE_AUTODJ)
    await bus.claim(autodj, ttl_s=LEASE_TTL_S)
    await bus.publish(
        station_id, on_air_event(on_air=True, source=AUTODJ), lease=autodj
    )
    track = now_playing_event(title="Track", artist="Band", source=AUTODJ, seq=1)
    await bus.publish(station_id, track, lease=autodj)
    assert (await bus.state(station_id))["now_playing"]["title"] == "Track"

    dj = new_lease(station_id, LIVE, DJ)
    assert await bus.claim(dj, ttl_s=LEASE_TTL_S) is Claim.GRANTED
    await bus.publish(station_id, on_air_event(on_air=True, source=LIVE), lease=dj)
    state = await bus.state(station_id)
    assert (state["source"], state["now_playing"]) == (LIVE, None)


async def test_a_station_whose_producer_vanished_goes_off_air(bus, station_id):
    """On air with its lease gone, a station is taken off air by the bus."""
    hub = await bus.attach(station_id)
    listener, transport = recorded_listener()
    hub.join(listener)
    lease = new_lease(station_id, *THE_AUTODJ)
    await bus.claim(lease, ttl_s=LEASE_TTL_S)
    await bus.publish(station_id, on_air_event(on_air=True, source=AUTODJ), lease=lease)
    assert (await transport.next_event(ON_AIR))["on_air"] is True

    # The producer's process dies: its lease goes without an off-air event.
    await bus.release(lease)

    assert (await transport.next_event(ON_AIR)) == {
        "type": ON_AIR,
        "on_air": False,
        "source": None,
        "broadcast": None,
    }
    assert (await bus.state(station_id))["on_air"] is False
    # The janitor gave the station back.
    assert await bus.claim(new_lease(station_id, *THE_AUTODJ), ttl_s=LEASE_TTL_S) is (
        Claim.GRANTED
    )
    hub.leave(listener)


async def test_listener_count_counts_this_process(bus, station_id):
    """With no hub nobody listens here; with one, its counted listeners."""
    assert await bus.listener_count(station_id) == 0
    hub = await bus.attach(station_id)
    listener, _ = recorded_listener()
    hub.join(listener)
    assert await bus.listener_count(station_id) == 1
    hub.leave(listener)
