"""The Redis bus between processes: catch-up, fan-out, counts and orphans.

Each ``RedisBus`` here stands for one server process. The lease rules it
shares with ``LocalBus`` are in test_bus.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid

import pytest

from radio.protocol import LISTENERS
from stations.streaming.bus import AUTODJ, LEASE_TTL_S, LIVE, Claim, Lease
from stations.streaming.hub import now_playing_event, on_air_event
from stations.streaming.packets import AudioPacket, now_ms
from stations.streaming.redis_bus import OUTPUT_KEEP_MS, RedisBus, RedisHealth
from tests.support.servers import RedisServer
from tests.support.streaming import ARRIVAL_TIMEOUT_S, recorded_listener

pytestmark = pytest.mark.redis

BURST_S = 1.0
COUNT_INTERVAL_S = 0.05
DJ = 1

_station_ids = itertools.count(5000)


def packet(seq: int, *, ingest_ms: int | None = None) -> AudioPacket:
    return AudioPacket.build(
        seq=seq,
        ingest_ms=now_ms() if ingest_ms is None else ingest_ms,
        duration_ms=100.5,
        frames=bytes([seq % 256]) * 3,
    )


@pytest.fixture
def station_id() -> int:
    return next(_station_ids)


@pytest.fixture
async def processes(redis_url):
    """Makes Redis buses, one per pretend process; closes them all after."""
    made: list[RedisBus] = []

    def make() -> RedisBus:
        bus = RedisBus(
            redis_url, burst_seconds=BURST_S, count_interval_s=COUNT_INTERVAL_S
        )
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.aclose()


async def go_on_air(bus: RedisBus, station_id: int) -> Lease:
    lease = Lease(station_id=station_id, token=uuid.uuid4().hex, user_id=DJ)
    assert await bus.claim(lease, ttl_s=LEASE_TTL_S) is Claim.GRANTED
    await bus.publish(station_id, on_air_event(on_air=True, source=LIVE), lease=lease)
    return lease


async def test_a_process_that_attaches_late_gets_state_and_burst(processes, station_id):
    """A hub started after the fact has the state, last seq and burst from Redis."""
    producer, late = processes(), processes()
    lease = await go_on_air(producer, station_id)
    title = now_playing_event(title="Song", artist="Band", source=LIVE, seq=1)
    await producer.publish(station_id, title, lease=lease)
    sent = [packet(seq) for seq in range(1, 16)]
    for item in sent:
        await producer.publish(station_id, item, lease=lease)

    hub = await late.attach(station_id)

    assert hub.state.on_air is True
    assert hub.state.source == LIVE
    assert hub.state.now_playing == {k: v for k, v in title.data.items() if k != "type"}
    assert hub.last_seq == 15
    burst = hub.burst.snapshot()
    assert [p.seq for p in burst] == list(range(6, 16))
    assert burst == sent[5:]  # seq, ingest time, duration and frames intact


async def test_stale_audio_is_left_out_of_the_first_burst(processes, station_id):
    """Packets older than the stream keeps are not replayed to a new process."""
    producer, late = processes(), processes()
    lease = await go_on_air(producer, station_id)
    old = now_ms() - OUTPUT_KEEP_MS - 1000
    await producer.publish(station_id, packet(1, ingest_ms=old), lease=lease)
    await producer.publish(station_id, packet(2), lease=lease)

    hub = await late.attach(station_id)
    assert [p.seq for p in hub.burst.snapshot()] == [2]


async def test_output_reaches_listeners_of_another_process(processes, station_id):
    """Packets and events published in one process reach another's listeners."""
    producer, other = processes(), processes()
    hub = await other.attach(station_id)
    listener, transport = recorded_listener()
    hub.join(listener)

    lease = await go_on_air(producer, station_id)
    sent = [packet(1), packet(2)]
    for item in sent:
        await producer.publish(station_id, item, lease=lease)

    assert (await transport.next_message()).startswith('{"type":"on_air"')
    assert await transport.next_message() == sent[0].wire
    assert await transport.next_message() == sent[1].wire
    hub.leave(listener)


async def next_count(transport, count: int) -> dict:
    """The first listeners message with ``count``; fails after the timeout."""
    while True:
        message = await transport.next_event(LISTENERS)
        if message["count"] == count:
            return message


async def test_listener_counts_add_up_across_processes(processes, station_id):
    """Each process's listeners and names are counted once, everywhere."""
    first, second, bystander = processes(), processes(), processes()
    first_hub = await first.attach(station_id)
    second_hub = await second.attach(station_id)
    ann, ann_transport = recorded_listener(username="ann")
    anonymous, _ = recorded_listener()
    bob, _ = recorded_listener(username="bob")
    first_hub.join(ann)
    first_hub.join(anonymous)
    second_hub.join(bob)

    await next_count(ann_transport, 3)
    assert await bystander.listener_count(station_id) == 3
    assert first_hub.audience.users == frozenset({"ann", "bob"})

    second_hub.leave(bob)
    await second.detach(station_id)
    await next_count(ann_transport, 2)
    assert await bystander.listener_count(station_id) == 2
    first_hub.leave(ann)
    first_hub.leave(anonymous)


async def test_state_of_an_orphaned_station_is_off_air(processes, station_id):
    """Asked from anywhere, a station on air with no lease is taken off air."""
    producer, other = processes(), processes()
    lease = await go_on_air(producer, station_id)
    assert (await other.state(station_id))["on_air"] is True

    # The producer's process dies: the lease goes, no off-air is published.
    await producer.release(lease)

    assert await other.state(station_id) == {
        "on_air": False,
        "source": None,
        "broadcast": None,
        "now_playing": None,
    }
    autodj = Lease(station_id=station_id, token="t", user_id=0, kind=AUTODJ)
    assert await other.claim(autodj, ttl_s=LEASE_TTL_S) is Claim.GRANTED


async def test_last_seq_is_shared_by_every_process(processes, station_id):
    """A DJ resuming in another process carries on from the same seq."""
    producer, other = processes(), processes()
    lease = await go_on_air(producer, station_id)
    await producer.publish(station_id, packet(41), lease=lease)
    assert await other.last_seq(station_id) == 41


def readers() -> list[asyncio.Task]:
    """The stream readers running in this event loop."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_coro().__qualname__ == "RedisBus._read_forever"
    ]


async def test_first_attaches_at_once_make_one_hub_and_one_reader(
    processes, station_id
):
    """Listeners arriving together (after a restart, all at once) share a hub."""
    bus = processes()
    hubs = await asyncio.gather(*(bus.attach(station_id) for _ in range(5)))
    assert all(hub is hubs[0] for hub in hubs)
    (reader,) = readers()
    await bus.detach(station_id)
    await bus.aclose()
    assert reader.done()


async def test_a_client_joining_while_the_last_leaves_joins_a_live_hub(
    processes, station_id
):
    """The hub is kept while a client awaits its chat history, though the
    station's last listener leaves meanwhile."""
    bus, producer = processes(), processes()
    first, _ = recorded_listener()
    (await bus.attach(station_id)).join(first)
    async with bus.joining(station_id) as hub:
        hub.leave(first)
        await bus.detach(station_id)
        await asyncio.sleep(0)  # the history read
        joiner, transport = recorded_listener()
        hub.join(joiner)
    assert bus.hub(station_id) is hub
    lease = await go_on_air(producer, station_id)
    sent = packet(1)
    await producer.publish(station_id, sent, lease=lease)
    assert (await transport.next_message()).startswith('{"type":"on_air"')
    assert await transport.next_message() == sent.wire


async def test_a_client_that_never_joins_lets_the_hub_go(processes, station_id):
    bus = processes()
    with pytest.raises(RuntimeError):
        async with bus.joining(station_id):
            raise RuntimeError("the socket closed while joining")
    assert bus.hub(station_id) is None
    assert all(reader.cancelling() for reader in readers())


@pytest.fixture
def own_redis():
    server = RedisServer.start()
    yield server
    server.stop()


async def next_binary(transport) -> bytes:
    while isinstance(message := await transport.next_message(), str):
        pass
    return message


async def test_readers_read_on_when_redis_comes_back(own_redis, caplog):
    """A Redis restart costs the audio sent meanwhile; the readers then read
    on from the new stream, and the process says so once each way."""
    producer = RedisBus(own_redis.url, burst_seconds=BURST_S)
    listening = RedisBus(own_redis.url, burst_seconds=BURST_S)
    transports = []
    for station_id in (1, 2, 3):
        listener, transport = recorded_listener()
        (await listening.attach(station_id)).join(listener)
        transports.append(transport)
    caplog.set_level(logging.INFO, logger="stations.streaming.redis_bus")
    own_redis.stop()
    await asyncio.sleep(1.5)  # every reader fails, and retries, meanwhile
    own_redis.start_again()
    for station_id, transport in zip((1, 2, 3), transports, strict=True):
        lease = await go_on_air(producer, station_id)
        sent = packet(7)
        await producer.publish(station_id, sent, lease=lease)
        async with asyncio.timeout(ARRIVAL_TIMEOUT_S):
            assert await next_binary(transport) == sent.wire
    said = [record.getMessage() for record in caplog.records]
    assert len([line for line in said if line.startswith("Lost Redis")]) == 1
    assert len([line for line in said if line.startswith("Redis back after")]) == 1
    assert listening.health.outages == 1
    await producer.aclose()
    await listening.aclose()


async def test_a_hub_attached_without_redis_is_fed_once_it_is_back(own_redis):
    """A listener can join while Redis is away and hears the station after."""
    own_redis.stop()
    listening = RedisBus(own_redis.url, burst_seconds=BURST_S)
    hub = await listening.attach(1)
    listener, transport = recorded_listener()
    hub.join(listener)
    assert not listening.available
    own_redis.start_again()
    producer = RedisBus(own_redis.url, burst_seconds=BURST_S)
    lease = await go_on_air(producer, 1)
    sent = packet(3)
    await producer.publish(1, sent, lease=lease)
    async with asyncio.timeout(ARRIVAL_TIMEOUT_S):
        assert await next_binary(transport) == sent.wire
    assert listening.available
    await producer.aclose()
    await listening.aclose()


def test_an_outage_is_logged_once_each_way(caplog):
    health = RedisHealth()
    caplog.set_level(logging.INFO, logger="stations.streaming.redis_bus")
    for _ in range(50):
        health.failed(ConnectionError("refused"))
    for _ in range(50):
        health.reached()
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2
    assert said[0].startswith("Lost Redis (refused)")
    assert said[1].startswith("Redis back after")
