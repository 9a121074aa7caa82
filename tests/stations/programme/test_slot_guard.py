"""The guard of a live DJ's slot: warnings, then off air after the overrun."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from stations.models import Station
from stations.programme import slot_guard
from stations.programme.models import Show, Slot
from stations.programme.slot_guard import SlotEnding, SlotGuard

OVERRUN_MINUTES = 0.01  # 0.6 s
WAIT_S = 10.0

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def short_overrun(settings):
    settings.RADIO_SLOT_OVERRUN_MINUTES = OVERRUN_MINUTES


@pytest.fixture
def station() -> Station:
    return Station.objects.create(slug="kept", name="Kept", slots_enforced=True)


@pytest.fixture
def host(station):
    user = get_user_model().objects.create_user("host", password="pw")
    station.djs.add(user)
    return user


def one_off_slot(station, host, *, started_ago: timedelta, minutes: int) -> Slot:
    show = Show.objects.create(station=station, name="Show", slug="show")
    show.hosts.add(host)
    return Slot.objects.create(
        show=show,
        kind="once",
        starts_at=timezone.now() - started_ago,
        duration_minutes=minutes,
    )


class Watched:
    """What a guard did: its warnings, and when it took the DJ off air."""

    def __init__(self, station, host) -> None:
        self.warnings: list[SlotEnding] = []
        self.off_air = asyncio.Event()
        self.off_air_at = None
        self.guard = SlotGuard(
            station_id=station.pk,
            user_id=host.pk,
            dj=host.username,
            on_warning=self.warnings.append,
            take_off_air=self.take_off_air,
        )

    async def take_off_air(self) -> None:
        self.off_air_at = timezone.now()
        self.off_air.set()


async def test_a_dj_is_warned_then_taken_off_air_after_the_overrun(station, host):
    slot = await asyncio.to_thread(
        one_off_slot, station, host, started_ago=timedelta(seconds=59), minutes=1
    )
    end = slot.starts_at + timedelta(minutes=1)
    watched = Watched(station, host)
    watched.guard.start()
    await asyncio.wait_for(watched.off_air.wait(), WAIT_S)
    assert watched.warnings == [
        SlotEnding(end, end + timedelta(minutes=OVERRUN_MINUTES), 1)
    ]
    assert watched.off_air_at >= end + timedelta(minutes=OVERRUN_MINUTES)


async def test_a_slot_edited_to_end_sooner_counts_at_the_next_check(
    station, host, monkeypatch
):
    monkeypatch.setattr(slot_guard, "RECHECK_SECONDS", 0.1)
    slot = await asyncio.to_thread(
        one_off_slot, station, host, started_ago=timedelta(minutes=10), minutes=60
    )
    watched = Watched(station, host)
    watched.guard.start()
    await asyncio.sleep(0.2)
    assert watched.warnings == []
    await Slot.objects.filter(pk=slot.pk).aupdate(duration_minutes=10)
    await asyncio.wait_for(watched.off_air.wait(), WAIT_S)
    assert [warning.minutes_left for warning in watched.warnings] == [0]


async def test_a_cancelled_guard_leaves_no_task_and_does_nothing(station, host):
    """Its slot is over: uncancelled, it would take the DJ off air at once."""
    await asyncio.to_thread(
        one_off_slot, station, host, started_ago=timedelta(seconds=62), minutes=1
    )
    before = asyncio.all_tasks()
    watched = Watched(station, host)
    watched.guard.start()
    watched.guard.cancel()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before
    await asyncio.sleep(0.5)
    assert not watched.off_air.is_set()


async def test_a_failed_read_of_the_schedule_is_tried_again(station, host, monkeypatch):
    """The database being away for a moment neither ends the guard nor the DJ."""
    await asyncio.to_thread(
        one_off_slot, station, host, started_ago=timedelta(seconds=62), minutes=1
    )
    monkeypatch.setattr(slot_guard, "RETRY_AFTER_ERROR_SECONDS", 0.05)
    read_schedule = slot_guard.aair_time_end
    failures = []

    async def failing_once(*arguments):
        if not failures:
            failures.append("database away")
            raise ConnectionError("database away")
        return await read_schedule(*arguments)

    monkeypatch.setattr(slot_guard, "aair_time_end", failing_once)
    watched = Watched(station, host)
    watched.guard.start()
    await asyncio.wait_for(watched.off_air.wait(), WAIT_S)
    assert failures == ["database away"]
