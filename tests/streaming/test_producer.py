"""One producer at a time: the lease, the numbering and what it publishes."""

from __future__ import annotations

import uuid

import pytest

from radio.protocol import ON_AIR
from stations.streaming import producer as producer_module
from stations.streaming.bus import AUTODJ, LIVE, Claim, Lease
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


async def test_hold_returns_once_the_lease_is_gone(bus, monkeypatch):
    monkeypatch.setattr(producer_module, "LEASE_TTL_S", 0.03)
    producer = Producer(bus, lease())
    await producer.claim()
    await bus.release(producer.lease)
    assert await producer.hold() is False
    assert producer.lost
