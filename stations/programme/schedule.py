"""When a station's shows are on: slots turned into occurrences in time.

Plain functions over slots (no queries): ``selectors`` loads what they need.
A weekly slot's occurrences start at its local time in the station's time
zone on each of its weekdays, so daylight-saving changes move them in UTC,
not on the clock. A local start that does not exist (skipped by the clock
going forward) starts when the clock has gone forward; one that happens twice
starts the first time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import Slot

MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class Occurrence:
    """A show on air from ``start`` to ``end`` (aware, in UTC)."""

    slot: Slot
    start: datetime
    end: datetime

    @property
    def show(self):
        return self.slot.show

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def local_start(day: date, start_time: time, zone: ZoneInfo) -> datetime:
    """``start_time`` on ``day`` in ``zone``, as an aware UTC datetime."""
    return datetime.combine(day, start_time, tzinfo=zone).astimezone(UTC)


def week_monday(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def days_of_week(
    found: Iterable[Occurrence], monday: date, zone: ZoneInfo
) -> list[tuple[date, list[Occurrence]]]:
    """The seven days from ``monday`` in ``zone``, each with the occurrences
    that start on it."""
    days: dict[date, list[Occurrence]] = {
        monday + timedelta(days=offset): [] for offset in range(7)
    }
    for occurrence in found:
        day = occurrence.start.astimezone(zone).date()
        if day in days:
            days[day].append(occurrence)
    return list(days.items())


def occurrences(
    slots: Iterable[Slot], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Occurrence]:
    """Every occurrence of ``slots`` that overlaps [start, end), by start."""
    found = []
    for slot in slots:
        for occurrence in _slot_occurrences(slot, zone, start, end):
            if occurrence.end > start and occurrence.start < end:
                found.append(occurrence)
    return sorted(found, key=lambda occurrence: (occurrence.start, occurrence.slot.pk))


def _slot_occurrences(
    slot: Slot, zone: ZoneInfo, start: datetime, end: datetime
) -> Iterable[Occurrence]:
    length = timedelta(minutes=slot.duration_minutes)
    if slot.kind == Slot.Kind.ONCE:
        begins = slot.starts_at.astimezone(UTC)
        yield Occurrence(slot, begins, begins + length)
        return
    # A slot that started the day before may still be on at ``start``.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() == slot.weekday:
            begins = local_start(day, slot.start_time, zone)
            yield Occurrence(slot, begins, begins + length)
        day += timedelta(days=1)


def on_now(
    slots: Iterable[Slot], zone: ZoneInfo, moment: datetime
) -> Occurrence | None:
    """The occurrence on air at ``moment``, if any."""
    for occurrence in occurrences(slots, zone, moment, moment + timedelta(seconds=1)):
        if occurrence.contains(moment):
            return occurrence
    return None


def up_next(
    slots: Iterable[Slot], zone: ZoneInfo, moment: datetime
) -> Occurrence | None:
    """The first occurrence that starts after ``moment``, within a week."""
    upcoming = occurrences(slots, zone, moment, moment + timedelta(days=8))
    return next((o for o in upcoming if o.start > moment), None)


def overlapping(slot: Slot, others: Sequence[Slot], zone: ZoneInfo) -> Slot | None:
    """One of ``others`` that is ever on at the same time as ``slot``."""
    for other in others:
        if other.pk is not None and other.pk == slot.pk:
            continue
        if _overlap(slot, other, zone):
            return other
    return None


def _overlap(a: Slot, b: Slot, zone: ZoneInfo) -> bool:
    if a.kind == b.kind == Slot.Kind.WEEKLY:
        # Weekly slots keep local times, so compare minutes of the local week.
        return _week_ranges_meet(_week_range(a), _week_range(b))
    once, other = (a, b) if a.kind == Slot.Kind.ONCE else (b, a)
    start = once.starts_at
    end = start + timedelta(minutes=once.duration_minutes)
    return any(
        occurrence.start < end and start < occurrence.end
        for occurrence in _slot_occurrences(other, zone, start, end)
    )


def _week_range(slot: Slot) -> tuple[int, int]:
    begin = slot.weekday * 24 * 60 + slot.start_time.hour * 60 + slot.start_time.minute
    return begin, begin + slot.duration_minutes


def _week_ranges_meet(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # A range may run past the end of the week into the next one's start.
    return any(
        a[0] + shift < b[1] and b[0] < a[1] + shift
        for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK)
    )
