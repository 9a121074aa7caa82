"""Listener statistics as CSV: the sessions of a range, and the plays with
how many listened to each. Written as they are read, with the play
history export's guard against spreadsheet formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime

from stations.models import Station
from stations.programme.export import Echo, spreadsheet_safe

from .selectors import (
    CHUNK_ROWS,
    StatsRange,
    play_attendance,
    range_bounds,
    session_times,
    sessions_overlapping,
)

SESSION_COLUMNS = [
    "started_at",
    "ended_at",
    "duration_s",
    "transport",
    "client",
    "user",
    "address_hash",
]
PLAY_COLUMNS = [
    "started_at",
    "title",
    "artist",
    "source",
    "dj",
    "show",
    "duration_s",
    "listeners_at_start",
    "sessions",
    "peak_listeners",
    "listening_s",
]


def export_filename(station: Station, what: str, chosen: StatsRange) -> str:
    return f"{station.slug}-{what}-{chosen.key}.csv"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def session_lines(station: Station, chosen: StatsRange, now: datetime) -> Iterator[str]:
    """The header, then each session open in the range, oldest first."""
    writer = csv.writer(Echo())
    yield writer.writerow(SESSION_COLUMNS)
    start, end = range_bounds(chosen, now)
    sessions = (
        sessions_overlapping(station, start, end)
        .select_related("user")
        .order_by("started_at", "id")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    for session in sessions:
        yield writer.writerow(
            [
                utc_text(session.started_at),
                utc_text(session.ended_at),
                f"{session.duration_s:.1f}",
                session.transport,
                session.client_kind,
                spreadsheet_safe(session.user.get_username() if session.user else ""),
                session.address_hash,
            ]
        )


def play_lines(station: Station, chosen: StatsRange, now: datetime) -> Iterator[str]:
    """The header, then each play started in the range, oldest first, with
    its listeners at its start (as stored) and the sessions open during it."""
    writer = csv.writer(Echo())
    yield writer.writerow(PLAY_COLUMNS)
    start, end = range_bounds(chosen, now)
    times = session_times(station, start, end)
    for play, result in play_attendance(station, times, start, end):
        yield writer.writerow(
            [
                utc_text(play.started_at),
                spreadsheet_safe(play.title),
                spreadsheet_safe(play.artist),
                play.source,
                spreadsheet_safe(play.dj_name),
                spreadsheet_safe(play.show.name if play.show else ""),
                f"{result.end - result.start:.0f}",
                str(play.listeners),
                str(result.sessions),
                str(result.peak),
                f"{result.listening_seconds:.0f}",
            ]
        )
