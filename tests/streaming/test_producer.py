"""One producer at a time: the lease, the numbering and what it publishes."""

from __future__ import annotations

import uuid

import pytest

from radio.protocol import ON_AIR
from stations.streaming import producer as producer_module
from stations.streaming.bus import AUTODJ, LIVE, BusUnavailable, Claim, Lease
from stations.streaming.producer import Producer
from tests.support.streaming import RecordingBus

STATION = 3


def lease(kind: str = LIVE, user_id: int = 1) -> Lease:
    return Lease(station_id=STATION, token=uuid.uuid4().hex, user_id=user_id, kind=kind)


@pytest.fixture
async def bus():
    bus = RecordingBus()
    yield bus
    await bus.aclose()


async def test_numbering_goes_on_from_the_station_s_last_packet(bus):
    """A new producer's first packet follows the last one of the one before."""
    first = Producer(bus, lease())
    assert await first.claim() is Claim.GRANTED
    for _ in range(3):
        assert await first.publish_audio(b"\xff\xfb", 26.0, 0)
    await first.end()

    second = Producer(bus, lease(user_id=2))
    assert await second.claim() is Claim.GRANTED
    await second.publish_audio(b"\xff\xfb", 26.0, 0)
    assert [packet.seq for packet in bus.packets()] == [1, 2, 3, 4]


async def test_on_and_off_air_name_the_lease_s_kind(bus):
    autodj = Producer(bus, lease(kind=AUTODJ, user_id=0))
    assert await autodj.claim() is Claim.GRANTED
    assert await autodj.go_on_air()
    await autodj.end()
    on_air = [(e.data["on_air"], e.data["source"]) for e in bus.events(ON_AIR)]
    assert on_air == [(True, AUTODJ), (False, None)]


async def test_a_producer_whose_station_was_taken_publishes_nothing(bus):
    """Once a DJ takes the AutoDJ's station, the AutoDJ's packets are refused,
    it is ``lost``, and ending it neither says off air nor frees the station."""
    autodj = Producer(bus, lease(kind=AUTODJ, user_id=0))
    await autodj.claim()
    dj = Producer(bus, lease())
    assert await dj.claim() is Claim.GRANTED

    assert not await autodj.publish_audio(b"\xff\xfb", 26.0, 0)
    assert autodj.lost
    await autodj.end()
    assert bus.events(ON_AIR) == []
    assert await dj.renew()


async def test_a_refused_claim_changes_nothing(bus):
    holder = Producer(bus, lease())
    await holder.claim()
    refused = Producer(bus, lease(user_id=2))
    assert await refused.claim() is Claim.REFUSED
    assert await holder.renew()


async def test_hold_renews_until_asked_to_stop(bus, monkeypatch):
    monkeypatch.setattr(producer_module, "LEASE_TTL_S", 0.03)
    producer = Producer(bus, lease())
    await producer.claim()
    renewals = []

    def third_time() -> bool:
        renewals.append(True)
        return len(renewals) == 3

    assert await producer.hold(until=third_time) is True
    assert not producer.lost


async def test_hold_returns_once_another_producer_has_the_station(bus, monkeypatch):
    monkeypatch.setattr(producer_module, "LEASE_TTL_S", 0.03)
    producer = Producer(bus, lease())
    await producer.claim()
    await bus.release(producer.lease)
    assert await bus.claim(lease(user_id=2), ttl_s=60) is Claim.GRANTED
    assert await producer.hold() is False
    assert producer.lost


class FlakyBus(RecordingBus):
    """A bus that is unavailable, as a RedisBus without Redis, while ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls_while_down = 0

    def _check(self) -> None:
        if self.down:
            self.calls_while_down += 1
            raise BusUnavailable("Connection refused")

    async def renew(self, lease, *, ttl_s):
        self._check()
        return await super().renew(lease, ttl_s=ttl_s)

    async def _send(self, station_id, item, *, lease):
        self._check()
        return await super()._send(station_id, item, lease=lease)

    def forget_everything(self) -> None:
        """What a Redis that restarted without persistence does."""
        self._leases.clear()


@pytest.fixture
async def flaky():
    bus = FlakyBus()
    yield bus
    await bus.aclose()


async def test_a_renewal_the_bus_cannot_answer_is_retried(flaky, monkeypatch):
    """Renewals that fail while the bus is away do not end the hold; the
    next one, once it is back, keeps the lease."""
    monkeypatch.setattr(producer_module, "LEASE_TTL_S", 0.05)
    producer = Producer(flaky, lease())
    await producer.claim()
    flaky.down = True
    renewals = []

    def after_outage() -> bool:
        renewals.append(flaky.down)
        flaky.down = len(renewals) < 3
        return len(renewals) == 5

    assert await producer.hold(until=after_outage) is True
    assert flaky.calls_while_down >= 3
    assert not producer.lost
    assert await flaky.renew(producer.lease, ttl_s=60)


async def test_audio_published_while_the_bus_is_away_is_dropped(flaky):
    """The packet is lost, the producer is not."""
    producer = Producer(flaky, lease())
    await producer.claim()
    flaky.down = True
    assert not await producer.publish_audio(b"\xff\xfb", 26.0, 0)
    assert not producer.lost
    flaky.down = False
    assert await producer.publish_audio(b"\xff\xfb", 26.0, 0)
    assert [packet.seq for packet in flaky.packets()] == [2]


async def test_a_lease_the_bus_forgot_is_claimed_back_and_on_air_said_again(flaky):
    """After Redis restarted empty the producer takes its free station back,
    numbers on from its own packets and says again that it is on air."""
    producer = Producer(flaky, lease())
    await producer.claim()
    await producer.go_on_air({"dj": "ann"})
    for _ in range(3):
        await producer.publish_audio(b"\xff\xfb", 26.0, 0)
    flaky.forget_everything()

    assert await producer.publish_audio(b"\xff\xfb", 26.0, 0)
    assert not producer.lost
    assert [packet.seq for packet in flaky.packets()] == [1, 2, 3, 4]
    on_air = [(e.data["on_air"], e.data["broadcast"]) for e in flaky.events(ON_AIR)]
    assert on_air == [(True, {"dj": "ann"}), (True, {"dj": "ann"})]
    assert await producer.renew()


async def test_a_forgotten_lease_taken_by_another_is_lost(flaky):
    producer = Producer(flaky, lease(kind=AUTODJ, user_id=0))
    await producer.claim()
    flaky.forget_everything()
    assert await flaky.claim(lease(), ttl_s=60) is Claim.GRANTED
    assert not await producer.publish_audio(b"\xff\xfb", 26.0, 0)
    assert producer.lost
    assert not await producer.renew()
