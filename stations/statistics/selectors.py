"""Reading a station's listener statistics over a range of time.

A fixed number of queries whatever the range: the sessions that overlap it
(their start and end only), the unique addresses and client kinds counted
by the database, the slots and the plays; ``attendance`` does the rest,
with the sessions' times sorted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, QuerySet

from stations.models import Station
from stations.programme.models import Play
from stations.programme.plays import station_plays_between
from stations.programme.schedule import occurrences
from stations.programme.selectors import station_slots

from .attendance import (
    Attendance,
    SessionTimes,
    attendance,
    average_listeners,
    buckets,
)
from .models import ClientKind, ListeningSession

# Rows read from the database at a time.
CHUNK_ROWS = 5000
# Tracks listed on the page, the most listened to first (the CSV has all).
TRACKS_SHOWN = 50
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class StatsRange:
    key: str
    label: str
    length: timedelta
    # One point of the chart: the average and peak listeners over it.
    bucket: timedelta


RANGES = {
    r.key: r
    for r in (
        StatsRange("24h", "24 hours", timedelta(hours=24), timedelta(minutes=5)),
        StatsRange("7d", "7 days", timedelta(days=7), timedelta(hours=1)),
        StatsRange("30d", "30 days", timedelta(days=30), timedelta(hours=1)),
    )
}
DEFAULT_RANGE = "24h"


class RangeError(ValueError):
    """The range asked for is not one of ``RANGES``."""


def stats_range(key: str | None) -> StatsRange:
    """The range named ``key`` (24h, 7d or 30d); the default when empty."""
    try:
        return RANGES[key or DEFAULT_RANGE]
    except KeyError:
        raise RangeError(f"'range' must be one of {', '.join(RANGES)}.") from None


def range_bounds(chosen: StatsRange, now: datetime) -> tuple[datetime, datetime]:
    """The range's start, on a bucket boundary, and its end, ``now``."""
    step = chosen.bucket.total_seconds()
    first = (now.timestamp() - chosen.length.total_seconds()) // step * step
    return datetime.fromtimestamp(first, UTC), now


@dataclass
class ShowAttendance:
    name: str
    occurrences: int = 0
    on_air_seconds: float = 0.0
    sessions: int = 0
    listening_seconds: float = 0.0
    peak: int = 0

    @property
    def listening_hours(self) -> float:
        return self.listening_seconds / SECONDS_PER_HOUR

    @property
    def average(self) -> float:
        return average_listeners(self.listening_seconds, self.on_air_seconds)


@dataclass
class TrackAttendance:
    title: str
    artist: str
    plays: int = 0
    played_seconds: float = 0.0
    sessions: int = 0
    listening_seconds: float = 0.0

    @property
    def average(self) -> float:
        return average_listeners(self.listening_seconds, self.played_seconds)


@dataclass
class StationStatistics:
    """What the statistics page shows for one station and range."""

    range: StatsRange
    start: datetime
    end: datetime
    timeline: list[Attendance]
    sessions: int
    listening_seconds: float
    unique_listeners: int
    client_kinds: list[tuple[str, str, int]]
    shows: list[ShowAttendance] = field(default_factory=list)
    tracks: list[TrackAttendance] = field(default_factory=list)

    @property
    def listening_hours(self) -> float:
        return self.listening_seconds / SECONDS_PER_HOUR

    @property
    def peak(self) -> int:
        return max((bucket.peak for bucket in self.timeline), default=0)

    @property
    def average(self) -> float:
        length = (self.end - self.start).total_seconds()
        return average_listeners(self.listening_seconds, length)


def sessions_overlapping(
    station: Station, start: datetime, end: datetime
) -> QuerySet[ListeningSession]:
    """The station's sessions open at some moment of [start, end)."""
    return ListeningSession.objects.filter(
        station=station, ended_at__gt=start, started_at__lt=end
    )


def session_times(station: Station, start: datetime, end: datetime) -> SessionTimes:
    """The starts and ends of the sessions overlapping [start, end)."""
    rows = (
        sessions_overlapping(station, start, end)
        .values_list("started_at", "ended_at")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    return SessionTimes((began.timestamp(), ended.timestamp()) for began, ended in rows)


def station_statistics(
    station: Station, chosen: StatsRange, now: datetime
) -> StationStatistics:
    start, end = range_bounds(chosen, now)
    times = session_times(station, start, end)
    timeline = attendance(
        times,
        buckets(start.timestamp(), end.timestamp(), chosen.bucket.total_seconds()),
    )
    in_range = sessions_overlapping(station, start, end)
    return StationStatistics(
        range=chosen,
        start=start,
        end=end,
        timeline=timeline,
        sessions=len(times),
        listening_seconds=sum(bucket.listening_seconds for bucket in timeline),
        unique_listeners=in_range.exclude(address_hash="")
        .values("address_hash")
        .distinct()
        .count(),
        client_kinds=client_kinds(in_range),
        shows=show_attendance(station, times, start, end),
        tracks=track_attendance(station, times, start, end)[:TRACKS_SHOWN],
    )


def client_kinds(sessions: QuerySet[ListeningSession]) -> list[tuple[str, str, int]]:
    """(kind, label, sessions) of each client kind used, the most used first
    (ties by kind)."""
    counts = (
        sessions.values("client_kind")
        .annotate(n=Count("id"))
        .order_by("-n", "client_kind")
    )
    return [
        (row["client_kind"], str(ClientKind(row["client_kind"]).label), row["n"])
        for row in counts
    ]


def show_attendance(
    station: Station, times: SessionTimes, start: datetime, end: datetime
) -> list[ShowAttendance]:
    """Each show's listening over its occurrences in [start, end), by name."""
    found = occurrences(station_slots(station), station.zone, start, end)
    spans, shows = [], []
    for occurrence in found:
        # Only the part within the range.
        begins = max(occurrence.start, start).timestamp()
        ends = min(occurrence.end, end).timestamp()
        if ends > begins:
            spans.append((begins, ends))
            shows.append(occurrence.show)
    by_show: dict[int, ShowAttendance] = {}
    for show, result in zip(shows, attendance(times, spans), strict=True):
        total = by_show.setdefault(show.pk, ShowAttendance(show.name))
        total.occurrences += 1
        total.on_air_seconds += result.end - result.start
        total.sessions += result.sessions
        total.listening_seconds += result.listening_seconds
        total.peak = max(total.peak, result.peak)
    return sorted(by_show.values(), key=lambda show: show.name.lower())


def play_attendance(
    station: Station, times: SessionTimes, start: datetime, end: datetime
) -> Iterator[tuple[Play, Attendance]]:
    """Each play started in [start, end), oldest first, with its listening
    until the next play (the last until ``end``)."""
    plays, spans = [], []
    for play, duration_s in station_plays_between(station, start, end):
        begins = play.started_at.timestamp()
        ends = end.timestamp()
        if duration_s is not None:
            ends = min(ends, begins + duration_s)
        plays.append(play)
        spans.append((begins, max(begins, ends)))
    return zip(plays, attendance(times, spans), strict=True)


def track_attendance(
    station: Station, times: SessionTimes, start: datetime, end: datetime
) -> list[TrackAttendance]:
    """Listening per title and artist over their plays, the most first."""
    tracks: dict[tuple[str, str], TrackAttendance] = {}
    for play, result in play_attendance(station, times, start, end):
        track = tracks.setdefault(
            (play.artist, play.title), TrackAttendance(play.title, play.artist)
        )
        track.plays += 1
        track.played_seconds += result.end - result.start
        track.sessions += result.sessions
        track.listening_seconds += result.listening_seconds
    return sorted(tracks.values(), key=lambda track: -track.listening_seconds)
