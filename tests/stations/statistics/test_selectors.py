"""A station's statistics over a range, from sessions, slots and plays in
the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stations.models import Station
from stations.programme.models import Play, Show, Slot
from stations.statistics.models import ClientKind
from stations.statistics.selectors import (
    RANGES,
    RangeError,
    range_bounds,
    station_statistics,
    stats_range,
)

from .sessions import session

pytestmark = pytest.mark.django_db

# A moment on a bucket boundary, so the ranges start exactly 24 h or 7 d before.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = RANGES["24h"]


@pytest.fixture
def station(db) -> Station:
    return Station.objects.create(slug="stats-fm", name="Stats FM")


def test_ranges_are_known_by_name_and_others_refused():
    assert stats_range(None).key == "24h"
    assert stats_range("7d").bucket == timedelta(hours=1)
    with pytest.raises(RangeError, match="'range' must be one of 24h, 7d, 30d"):
        stats_range("1y")


def test_the_range_starts_on_a_bucket_boundary():
    """Off a boundary, the range starts at the bucket before now minus 24 h."""
    start, end = range_bounds(DAY, NOW + timedelta(minutes=7))
    assert start == NOW - timedelta(hours=24) + timedelta(minutes=5)
    assert end == NOW + timedelta(minutes=7)


def test_figures_count_the_sessions_of_the_range(station):
    """Sessions, hours, peak, average and unique listeners of 24 h."""
    hour_ago = NOW - timedelta(hours=1)
    session(station, hour_ago, 600, address_hash="1" * 64)
    session(station, hour_ago + timedelta(seconds=300), 600, address_hash="1" * 64)
    session(station, hour_ago, 1800, address_hash="2" * 64)
    # Wholly before the range: not counted.
    session(station, NOW - timedelta(days=2), 600, address_hash="3" * 64)
    # Another station's.
    other = Station.objects.create(slug="other", name="Other")
    session(other, hour_ago, 600)

    stats = station_statistics(station, DAY, NOW)

    assert stats.sessions == 3
    assert stats.listening_seconds == pytest.approx(3000)
    assert stats.listening_hours == pytest.approx(3000 / 3600)
    assert stats.peak == 3
    assert stats.average == pytest.approx(3000 / (24 * 3600))
    assert stats.unique_listeners == 2
    assert len(stats.timeline) == 24 * 12


def test_a_session_crossing_the_range_start_counts_only_within(station):
    """A session from 25 h to 23 h ago gives the range its last hour only."""
    session(station, NOW - timedelta(hours=25), 2 * 3600)
    stats = station_statistics(station, DAY, NOW)
    assert stats.sessions == 1
    assert stats.listening_seconds == pytest.approx(3600)
    assert stats.timeline[0].peak == 1
    assert stats.timeline[12].peak == 0


def test_each_bucket_has_its_average_and_peak(station):
    """Two listeners for the whole of one 5-minute bucket and one for half
    of it: average 2.5, peak 3."""
    bucket_start = NOW - timedelta(minutes=30)
    session(station, bucket_start - timedelta(minutes=1), 7 * 60)
    session(station, bucket_start, 5 * 60)
    session(station, bucket_start + timedelta(seconds=150), 150)
    stats = station_statistics(station, DAY, NOW)
    bucket = next(b for b in stats.timeline if b.start == bucket_start.timestamp())
    assert bucket.average == pytest.approx(2.5)
    assert bucket.peak == 3


def test_client_kinds_are_counted_most_used_first(station):
    for kind in (ClientKind.VLC, ClientKind.BROWSER, ClientKind.VLC):
        session(station, NOW - timedelta(hours=2), 60, client_kind=kind)
    stats = station_statistics(station, DAY, NOW)
    assert stats.client_kinds == [("vlc", "VLC", 2), ("browser", "Browser", 1)]


def test_a_show_gets_the_listening_during_its_occurrences(station):
    """A one-hour show: sessions before, across and after it count only
    for the part within it."""
    show = Show.objects.create(station=station, name="Morning", slug="morning")
    on_air = NOW - timedelta(hours=3)
    Slot.objects.create(
        show=show, kind=Slot.Kind.ONCE, starts_at=on_air, duration_minutes=60
    )
    session(station, on_air - timedelta(minutes=30), 3600)  # 30 min in the show
    session(station, on_air + timedelta(minutes=10), 600)  # 10 min
    session(station, on_air + timedelta(hours=2), 600)  # after it

    [morning] = station_statistics(station, DAY, NOW).shows

    assert morning.name == "Morning"
    assert morning.occurrences == 1
    assert morning.sessions == 2
    assert morning.listening_seconds == pytest.approx(40 * 60)
    assert morning.peak == 2
    assert morning.average == pytest.approx(40 / 60)


def test_a_track_gets_the_listening_until_the_next_play(station):
    """Each play lasts until the next; the sessions open during it count."""
    first = NOW - timedelta(hours=2)
    for offset, title in ((0, "One"), (300, "Two"), (600, "One")):
        Play.objects.create(
            station=station,
            title=title,
            artist="Band",
            source="autodj",
            started_at=first + timedelta(seconds=offset),
        )
    session(station, first, 400)  # 300 s of One, 100 s of Two
    session(station, first + timedelta(seconds=700), 100)  # the second One

    tracks = {t.title: t for t in station_statistics(station, DAY, NOW).tracks}

    assert tracks["One"].plays == 2
    assert tracks["One"].sessions == 2
    assert tracks["One"].listening_seconds == pytest.approx(400)
    assert tracks["Two"].plays == 1
    assert tracks["Two"].listening_seconds == pytest.approx(100)
    assert tracks["Two"].average == pytest.approx(100 / 300)
