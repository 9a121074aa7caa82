"""The play history as CSV, for royalty reporting: the dates asked for,
checked, and one row per play, written as it is read."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from datetime import UTC, date, timedelta

from django.conf import settings

from stations.models import Station

from .models import Play
from .plays import local_day_range, station_plays_between

CSV_COLUMNS = [
    "started_at",
    "station",
    "title",
    "artist",
    "source",
    "dj",
    "show",
    "listeners",
    "duration_s",
]
# The last days exported when no dates are given, today included.
DEFAULT_EXPORT_DAYS = 30
# Days that may be asked for: beyond them a day's start in some time zones
# is outside what datetime holds.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9998, 12, 31)
# A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportRangeError(ValueError):
    """The dates asked for cannot be exported; the message says why."""


def export_range(query: Mapping[str, str], today: date) -> tuple[date, date]:
    """The first and last day to export from ``from`` and ``to`` in ``query``
    (``YYYY-MM-DD``, both included); by default the last 30 days."""
    last = parse_day(query, "to") or today
    first = parse_day(query, "from") or last - timedelta(days=DEFAULT_EXPORT_DAYS - 1)
    if first > last:
        raise ExportRangeError("'from' must not be after 'to'.")
    most = settings.RADIO_HISTORY_EXPORT_MAX_DAYS
    if (last - first).days + 1 > most:
        raise ExportRangeError(f"At most {most} days may be exported at once.")
    return first, last


def parse_day(query: Mapping[str, str], name: str) -> date | None:
    value = query.get(name, "")
    if not value:
        return None
    try:
        # fromisoformat takes more than YYYY-MM-DD (e.g. 20261130).
        if len(value) != len("YYYY-MM-DD"):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ExportRangeError(f"'{name}' must be a date as YYYY-MM-DD.") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ExportRangeError(
            f"'{name}' must be between {EARLIEST_DAY} and {LATEST_DAY}."
        )
    return day


def export_filename(station: Station, first: date, last: date) -> str:
    return f"{station.slug}-plays-{first.isoformat()}-{last.isoformat()}.csv"


def csv_lines(station: Station, first: date, last: date) -> Iterator[str]:
    """The header, then one line per play of the station from the start of
    ``first`` to the end of ``last`` in the station's time zone."""
    writer = csv.writer(Echo())
    yield writer.writerow(CSV_COLUMNS)
    start, end = local_day_range(first, last, station.zone)
    for play, duration_s in station_plays_between(station, start, end):
        yield writer.writerow(play_row(station, play, duration_s))


def play_row(station: Station, play: Play, duration_s: float | None) -> list[str]:
    """One play as the export's columns."""
    return [
        play.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        spreadsheet_safe(station.name),
        spreadsheet_safe(play.title),
        spreadsheet_safe(play.artist),
        play.source,
        spreadsheet_safe(play.dj_name),
        spreadsheet_safe(play.show.name if play.show else ""),
        str(play.listeners),
        "" if duration_s is None else f"{duration_s:.0f}",
    ]


def spreadsheet_safe(text: str) -> str:
    """``text``, quoted so that a spreadsheet shows it rather than runs it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Echo:
    """A file that hands back what is written to it: ``csv.writer(Echo())``'s
    ``writerow`` returns the row's line, for a streamed response."""

    def write(self, line: str) -> str:
        return line
