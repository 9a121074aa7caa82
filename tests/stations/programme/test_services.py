"""Making shows and slots: hosts, overlaps, local times."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from stations.programme.models import Show, Slot
from stations.programme.services import (
    NoSuchLocalTime,
    NotStationDjs,
    ProgrammeError,
    SlotOverlaps,
    show_create,
    show_ensure,
    show_update,
    slot_add_once,
    slot_add_weekly,
    slot_remove,
)

MONDAY, SUNDAY = 0, 6


@pytest.fixture
def late_show(berlin, host) -> Show:
    return show_create(station=berlin, name="Late Show", hosts=[host])


@pytest.fixture
def other_show(berlin, co_host) -> Show:
    return show_create(station=berlin, name="Other Show", hosts=[co_host])


def test_a_show_gets_a_slug_unique_in_its_station(berlin, host):
    first = show_create(station=berlin, name="Late Night Jazz!", hosts=[host])
    second = show_create(station=berlin, name="Late night jazz", hosts=[])
    assert (first.slug, second.slug) == ("late-night-jazz", "late-night-jazz-2")
    assert list(first.hosts.all()) == [host]


def test_hosts_must_be_djs_of_the_station(berlin, host, stranger, late_show):
    with pytest.raises(NotStationDjs, match="Not a DJ of Berlin FM: stranger"):
        show_create(station=berlin, name="Nope", hosts=[host, stranger])
    with pytest.raises(NotStationDjs):
        show_update(show=late_show, name="Late Show", hosts=[stranger])
    assert not Show.objects.filter(name="Nope").exists()
    assert list(late_show.hosts.all()) == [host]


def test_bad_fields_are_refused_with_their_name(berlin):
    with pytest.raises(ProgrammeError, match=r"^name: "):
        show_create(station=berlin, name="x" * 101, hosts=[])


@pytest.mark.parametrize("minutes", [0, 1441])
def test_slot_length_is_limited(late_show, minutes):
    with pytest.raises(ProgrammeError, match=r"^minutes: "):
        slot_add_weekly(show=late_show, weekday=MONDAY, start=time(20), minutes=minutes)


def test_weekly_slots_that_overlap_are_refused_naming_the_other(late_show, other_show):
    slot_add_weekly(show=late_show, weekday=MONDAY, start=time(20), minutes=120)
    with pytest.raises(SlotOverlaps) as refused:
        slot_add_weekly(show=other_show, weekday=MONDAY, start=time(21, 59), minutes=30)
    assert str(refused.value) == (
        'It overlaps "Late Show" on Mondays 20:00-22:00 (Europe/Berlin).'
    )
    # Back to back is fine.
    slot_add_weekly(show=other_show, weekday=MONDAY, start=time(22), minutes=30)


def test_a_sunday_night_slot_overlaps_monday_morning(late_show, other_show):
    slot_add_weekly(show=late_show, weekday=SUNDAY, start=time(23), minutes=120)
    with pytest.raises(SlotOverlaps, match="Late Show"):
        slot_add_weekly(show=other_show, weekday=MONDAY, start=time(0, 30), minutes=30)
    slot_add_weekly(show=other_show, weekday=MONDAY, start=time(1), minutes=30)


def test_a_one_off_slot_may_not_overlap_a_weekly_one(late_show, other_show):
    slot_add_weekly(show=late_show, weekday=MONDAY, start=time(20), minutes=60)
    # 2026-12-21 is a Monday; 20:30 in Berlin.
    with pytest.raises(SlotOverlaps, match="Late Show"):
        slot_add_once(
            show=other_show, local_start=datetime(2026, 12, 21, 20, 30), minutes=10
        )
    slot_add_once(show=other_show, local_start=datetime(2026, 12, 21, 21), minutes=10)


def test_one_off_slots_may_not_overlap_each_other(late_show, other_show):
    slot_add_once(show=late_show, local_start=datetime(2026, 12, 24, 18), minutes=60)
    with pytest.raises(SlotOverlaps) as refused:
        slot_add_once(
            show=other_show, local_start=datetime(2026, 12, 24, 17, 30), minutes=31
        )
    assert "2026-12-24 18:00-19:00 (Europe/Berlin)" in str(refused.value)


def test_one_off_times_are_the_stations_local_time(late_show):
    slot = slot_add_once(
        show=late_show, local_start=datetime(2026, 12, 24, 18), minutes=60
    )
    assert slot.starts_at == datetime(2026, 12, 24, 17, tzinfo=UTC)


def test_a_local_time_the_clock_skips_is_refused(late_show):
    with pytest.raises(NoSuchLocalTime, match="does not exist in Europe/Berlin"):
        slot_add_once(
            show=late_show, local_start=datetime(2026, 3, 29, 2, 30), minutes=60
        )


def test_removing_a_slot_frees_its_time(late_show, other_show):
    slot = slot_add_weekly(show=late_show, weekday=MONDAY, start=time(20), minutes=60)
    slot_remove(slot=slot)
    slot_add_weekly(show=other_show, weekday=MONDAY, start=time(20), minutes=60)
    assert Slot.objects.get().show == other_show


def test_ensure_finds_a_show_by_name_and_adds_hosts(berlin, host, co_host, late_show):
    show, created = show_ensure(station=berlin, name="Late Show", hosts=[co_host])
    assert (show, created) == (late_show, False)
    assert set(show.hosts.all()) == {host, co_host}
