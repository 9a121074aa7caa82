"""Reading the play history: the listener page's "Recently played", the
history page's days, and the plays of a date range for the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from stations.models import Station

from .models import Play

RECENT_PLAYS = 10
# Rows the export reads from the database at a time while it streams.
EXPORT_CHUNK_PLAYS = 2000


@dataclass(frozen=True)
class PlayDay:
    """The plays of one day in the station's time zone, newest first."""

    day: date
    plays: list[Play]


def station_plays(station: Station) -> QuerySet[Play]:
    """Every play of the station, newest first, with its show."""
    return (
        Play.objects.filter(station=station)
        .select_related("show")
        .order_by("-started_at", "-id")
    )


def station_recent_plays(station: Station, *, limit: int = RECENT_PLAYS) -> list[Play]:
    """The station's last ``limit`` plays with a title or an artist."""
    titled = ~Q(title="", artist="")
    return list(station_plays(station).filter(titled)[:limit])


def station_history_page(station: Station, number: int | str | None) -> Page:
    """Page ``number`` of the station's history (the last page if past it),
    ``RADIO_HISTORY_PAGE_PLAYS`` plays a page, newest first."""
    paginator = Paginator(station_plays(station), settings.RADIO_HISTORY_PAGE_PLAYS)
    return paginator.get_page(number)


def play_days(plays: list[Play], zone: ZoneInfo) -> list[PlayDay]:
    """``plays`` (newest first) grouped by their day in ``zone``."""

    def local_day(play: Play) -> date:
        return play.started_at.astimezone(zone).date()

    return [PlayDay(day, list(group)) for day, group in groupby(plays, local_day)]


def local_day_range(
    first: date, last: date, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The instants from the start of ``first`` to the end of ``last`` in ``zone``."""
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    return start, end


def station_plays_between(
    station: Station, start: datetime, end: datetime
) -> Iterator[tuple[Play, float | None]]:
    """The station's plays that started in [``start``, ``end``), oldest first,
    each with its seconds until the station's next play (None if none yet)."""
    plays = (
        Play.objects.filter(station=station, started_at__gte=start, started_at__lt=end)
        .select_related("show")
        .order_by("started_at", "id")
        .iterator(chunk_size=EXPORT_CHUNK_PLAYS)
    )
    previous = None
    for play in plays:
        if previous is not None:
            yield previous, seconds_between(previous.started_at, play.started_at)
        previous = play
    if previous is not None:
        following = (
            Play.objects.filter(station=station, started_at__gte=end)
            .order_by("started_at", "id")
            .values_list("started_at", flat=True)
            .first()
        )
        if following is None:
            yield previous, None
        else:
            yield previous, seconds_between(previous.started_at, following)


def seconds_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()
