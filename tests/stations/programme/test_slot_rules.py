"""Slots decide who may go live on a station that keeps DJs to them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model

from stations.models import Station
from stations.programme.models import Show, Slot
from stations.programme.selectors import station_slots
from stations.programme.slot_rules import (
    NO_LIMIT,
    SOURCE_PASSWORD_REFUSAL,
    OutsideSlot,
    air_time_end,
    check_air_time,
    refusal,
)

EARLY = timedelta(minutes=5)
# A Monday: 20:00 in Berlin is 19:00 UTC (winter time).
MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
SLOT_START = MONDAY.replace(hour=19)
SLOT_END = SLOT_START + timedelta(hours=2)


@pytest.fixture
def station(db) -> Station:
    return Station.objects.create(
        slug="kept", name="Kept FM", timezone="Europe/Berlin", slots_enforced=True
    )


def make_user(username: str, **fields):
    return get_user_model().objects.create_user(username, password="pw", **fields)


@pytest.fixture
def host(station):
    user = make_user("host")
    station.djs.add(user)
    return user


@pytest.fixture
def show(station, host) -> Show:
    """Every Monday 20:00 to 22:00, Berlin time."""
    show = Show.objects.create(station=station, name="Night Owls", slug="owls")
    show.hosts.add(host)
    Slot.objects.create(
        show=show, kind="weekly", weekday=0, start_time=time(20), duration_minutes=120
    )
    return show


def why_not(station, user, moment) -> str | None:
    return refusal(
        station=station,
        user=user,
        slots=station_slots(station),
        moment=moment,
        early=EARLY,
    )


@pytest.mark.parametrize(
    "moment",
    [SLOT_START, SLOT_START + timedelta(hours=1), SLOT_END - timedelta(seconds=1)],
    ids=["start", "middle", "last-second"],
)
def test_a_host_may_go_live_within_their_slot(station, show, host, moment):
    assert why_not(station, host, moment) is None


def test_a_host_may_go_live_from_the_early_window_on(station, show, host):
    assert why_not(station, host, SLOT_START - EARLY) is None


def test_before_the_early_window_the_refusal_names_the_next_slot_locally(
    station, show, host
):
    reason = why_not(station, host, SLOT_START - EARLY - timedelta(seconds=1))
    assert "from 5 minutes before a slot of a show you host" in reason
    assert "Night Owls" in reason
    assert "Mon 07 Dec 2026 20:00 (Europe/Berlin)" in reason


def test_at_the_end_of_the_slot_the_next_week_is_named(station, show, host):
    reason = why_not(station, host, SLOT_END)
    assert "Mon 14 Dec 2026 20:00 (Europe/Berlin)" in reason


def test_a_dj_who_does_not_host_the_show_is_refused(station, show):
    other = make_user("other")
    station.djs.add(other)
    reason = why_not(station, other, SLOT_START)
    assert reason.endswith("You have no slot in the coming week")


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_staff_may_always_go_live(station, show, flag):
    assert why_not(station, make_user("boss", **{flag: True}), SLOT_END) is None


def test_the_source_password_is_refused_even_within_a_slot(station, show):
    reason = why_not(station, None, SLOT_START)
    assert reason == SOURCE_PASSWORD_REFUSAL
    assert "your own username and password" in reason


def test_without_slots_enforced_anyone_may_go_live(station, show):
    station.slots_enforced = False
    assert why_not(station, None, SLOT_END) is None
    assert why_not(station, make_user("other"), SLOT_END) is None


def test_check_air_time_reads_the_setting_and_the_user_again(station, show, host):
    """The station and the DJ come from the database, not the caller."""
    with pytest.raises(OutsideSlot, match="Night Owls"):
        check_air_time(station.pk, host.pk, SLOT_END)
    assert check_air_time(station.pk, host.pk, SLOT_START) is True
    with pytest.raises(OutsideSlot, match="source password"):
        check_air_time(station.pk, -1, SLOT_START)
    host.is_staff = True
    host.save()
    assert check_air_time(station.pk, host.pk, SLOT_END) is False
    Station.objects.filter(pk=station.pk).update(slots_enforced=False)
    assert check_air_time(station.pk, -1, SLOT_END) is False


def test_air_time_ends_with_the_slot_and_counts_in_its_overrun(
    station, show, host, settings
):
    settings.RADIO_SLOT_OVERRUN_MINUTES = 5
    end = air_time_end(station.pk, host.pk, SLOT_START - EARLY)
    assert end == SLOT_END
    assert air_time_end(station.pk, host.pk, SLOT_END + timedelta(minutes=4)) == end
    assert air_time_end(station.pk, host.pk, SLOT_END + timedelta(minutes=5)) is None


def test_air_time_runs_on_into_the_hosts_next_slot_only(station, show, host):
    """Back-to-back slots of the host chain; another DJ's next slot does not."""
    later = Show.objects.create(station=station, name="Later", slug="later")
    later.hosts.add(host)
    Slot.objects.create(
        show=later, kind="once", starts_at=SLOT_END, duration_minutes=30
    )
    after_that = Show.objects.create(station=station, name="Not theirs", slug="nt")
    Slot.objects.create(
        show=after_that,
        kind="once",
        starts_at=SLOT_END + timedelta(minutes=30),
        duration_minutes=60,
    )
    moment = SLOT_START + timedelta(minutes=1)
    assert air_time_end(station.pk, host.pk, moment) == SLOT_END + timedelta(minutes=30)


def test_nothing_limits_staff_or_a_station_that_does_not_keep_slots(
    station, show, host
):
    boss = make_user("boss", is_staff=True)
    assert air_time_end(station.pk, boss.pk, SLOT_END) is NO_LIMIT
    Station.objects.filter(pk=station.pk).update(slots_enforced=False)
    assert air_time_end(station.pk, host.pk, SLOT_END) is NO_LIMIT
