"""Occurrences of slots: daylight-saving changes, and the edges of now/next."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from stations.programme.models import Show, Slot
from stations.programme.schedule import occurrences, on_now, up_next

BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY = 6


def weekly(weekday: int, start: time, minutes: int, pk: int = 1) -> Slot:
    return Slot(
        pk=pk,
        show=Show(name=f"Show {pk}"),
        kind=Slot.Kind.WEEKLY,
        weekday=weekday,
        start_time=start,
        duration_minutes=minutes,
    )


def once(starts_at: datetime, minutes: int, pk: int = 2) -> Slot:
    return Slot(
        pk=pk,
        show=Show(name=f"Show {pk}"),
        kind=Slot.Kind.ONCE,
        starts_at=starts_at,
        duration_minutes=minutes,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_march_change_keeps_the_local_time_and_moves_the_utc_one():
    """Sunday 10:00 in Berlin is 09:00 UTC before 2026-03-29 and 08:00 from it."""
    slot = weekly(SUNDAY, time(10), 60)
    found = occurrences([slot], BERLIN, utc(2026, 3, 21), utc(2026, 4, 6))
    assert [o.start for o in found] == [
        utc(2026, 3, 22, 9),
        utc(2026, 3, 29, 8),
        utc(2026, 4, 5, 8),
    ]
    assert all(o.start.astimezone(BERLIN).time() == time(10) for o in found)


def test_october_change_keeps_the_local_time_and_moves_the_utc_one():
    """Sunday 10:00 in Berlin is 08:00 UTC up to 2026-10-25's change, 09:00 on."""
    slot = weekly(SUNDAY, time(10), 60)
    found = occurrences([slot], BERLIN, utc(2026, 10, 17), utc(2026, 11, 2))
    assert [o.start for o in found] == [
        utc(2026, 10, 18, 8),
        utc(2026, 10, 25, 9),
        utc(2026, 11, 1, 9),
    ]


def test_a_slot_across_the_change_night_lasts_its_minutes():
    """A slot over the night the clock goes back runs its length in real time."""
    slot = weekly(SUNDAY, time(1), 180)
    (occurrence,) = occurrences(
        [slot], BERLIN, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)
    )
    assert occurrence.start == utc(2026, 10, 24, 23)
    assert occurrence.end - occurrence.start == timedelta(minutes=180)


def test_on_now_at_the_edges():
    slot = weekly(
        0, time(20), 60
    )  # Mondays 20:00-21:00 in Berlin (19-20 UTC in winter)
    start, end = utc(2026, 12, 21, 19), utc(2026, 12, 21, 20)
    assert on_now([slot], BERLIN, start - timedelta(microseconds=1)) is None
    assert on_now([slot], BERLIN, start).start == start
    assert on_now([slot], BERLIN, end - timedelta(microseconds=1)).end == end
    assert on_now([slot], BERLIN, end) is None


def test_up_next_at_the_edges():
    slot = weekly(0, time(20), 60)
    start = utc(2026, 12, 21, 19)
    assert up_next([slot], BERLIN, start - timedelta(microseconds=1)).start == start
    # From its start on, the next is a week later.
    assert up_next([slot], BERLIN, start).start == start + timedelta(days=7)


def test_a_one_off_follows_straight_on():
    slot = weekly(0, time(20), 60)
    after = once(utc(2026, 12, 21, 20), 30)
    boundary = utc(2026, 12, 21, 20)
    assert on_now([slot, after], BERLIN, boundary).slot is after
    assert up_next([slot, after], BERLIN, boundary - timedelta(seconds=1)).slot is after
