"""Every now_playing a process publishes is stored once, with who was live,
how many listened and which show was on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stations.models import Station
from stations.programme.history import record_play
from stations.programme.models import Play, Show, Slot
from stations.streaming.bus import LIVE, Lease, LocalBus
from stations.streaming.hub import now_playing_event, on_air_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug="history-fm", name="History FM")


async def test_only_events_that_went_out_are_observed():
    bus = LocalBus(burst_seconds=1)
    seen = []
    bus.observe(lambda station_id, event: seen.append((station_id, event.type)))
    holder = Lease(station_id=7, token="holder", user_id=1)
    stranger = Lease(station_id=7, token="stranger", user_id=2)
    await bus.claim(holder, ttl_s=60)

    await bus.publish(7, on_air_event(on_air=True, source=LIVE), lease=holder)
    refused = now_playing_event(title="No", artist="", source=LIVE, seq=1)
    assert not await bus.publish(7, refused, lease=stranger)

    assert seen == [(7, "on_air")]
    await bus.aclose()


async def test_a_title_is_stored_with_the_dj_listeners_and_show(station):
    started = datetime.now(UTC)
    show = await Show.objects.acreate(station=station, name="Morning", slug="morning")
    await Slot.objects.acreate(
        show=show,
        kind=Slot.Kind.ONCE,
        starts_at=started - timedelta(minutes=10),
        duration_minutes=60,
    )
    bus = LocalBus(burst_seconds=1)
    lease = Lease(station_id=station.pk, token="dj", user_id=1)
    await bus.claim(lease, ttl_s=60)
    broadcast = {"dj": "alice", "name": "", "description": "", "genre": "", "url": ""}
    await bus.publish(
        station.pk,
        on_air_event(on_air=True, source=LIVE, broadcast=broadcast),
        lease=lease,
    )
    event = now_playing_event(title="Song", artist="Band", source=LIVE, seq=42)

    play = await record_play(bus, station.pk, event.data)

    stored = await Play.objects.select_related("show").aget(pk=play.pk)
    assert (stored.title, stored.artist, stored.source, stored.seq) == (
        "Song",
        "Band",
        "live",
        42,
    )
    assert stored.dj_name == "alice"
    assert stored.show == show
    assert stored.listeners == 0
    assert abs(stored.started_at - started) < timedelta(seconds=5)
    await bus.aclose()


async def test_the_autodj_outside_any_show_has_no_dj_and_no_show(station):
    bus = LocalBus(burst_seconds=1)
    event = now_playing_event(title="Track", artist="", source="autodj", seq=1)

    play = await record_play(bus, station.pk, event.data)

    assert (play.dj_name, play.show, play.source) == ("", None, "autodj")
    await bus.aclose()


async def test_a_deleted_station_stores_nothing(station):
    bus = LocalBus(burst_seconds=1)
    event = now_playing_event(title="Gone", artist="", source=LIVE, seq=1)
    station_id = station.pk
    await station.adelete()

    assert await record_play(bus, station_id, event.data) is None
    assert not await Play.objects.filter(title="Gone").aexists()
    await bus.aclose()
