"""Slots decide who may go live on a station that keeps DJs to them
(``Station.slots_enforced``), and until when.

A DJ may go live from ``RADIO_SLOT_EARLY_MINUTES`` before a slot of a show
they host until its end; staff may always. A login with the station's
source password names no DJ, so it is refused while slots are kept. A DJ's
air time runs on past their slot's end while their next slot begins by then.

The rule is plain functions over slots; ``check_air_time`` and
``air_time_end`` load what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from stations.models import Station

from .models import Slot
from .schedule import Occurrence, occurrences, up_next
from .selectors import station_slots

# How far ahead a DJ's back-to-back slots are followed: past it, the guard
# (slot_guard) reads the schedule again before it matters.
CHAIN_HORIZON = timedelta(days=8)
# What ``air_time_end`` gives when nothing limits the DJ's air time.
NO_LIMIT = datetime.max.replace(tzinfo=UTC)

SOURCE_PASSWORD_REFUSAL = (
    "This station keeps DJs to their slots: log in with your own username "
    "and password, not the station's source password"
)


class OutsideSlot(Exception):
    """The DJ may not go live now; the message says why, for them to read."""


def early_window() -> timedelta:
    return timedelta(minutes=settings.RADIO_SLOT_EARLY_MINUTES)


def overrun() -> timedelta:
    return timedelta(minutes=settings.RADIO_SLOT_OVERRUN_MINUTES)


def may_ignore_slots(user) -> bool:
    """Staff may go live at any time."""
    return user.is_staff or user.is_superuser


def hosted_by(slots: Sequence[Slot], user_id: int) -> list[Slot]:
    """The slots of ``slots`` whose show ``user_id`` hosts (hosts prefetched)."""
    return [
        slot
        for slot in slots
        if any(host.pk == user_id for host in slot.show.hosts.all())
    ]


def slot_around(
    slots: Sequence[Slot],
    zone: ZoneInfo,
    moment: datetime,
    *,
    before: timedelta,
    after: timedelta = timedelta(0),
) -> Occurrence | None:
    """The occurrence of ``slots`` from ``before`` its start to ``after``
    its end that ``moment`` falls in, if any."""
    window = occurrences(
        slots, zone, moment - after, moment + before + timedelta(seconds=1)
    )
    for occurrence in window:
        if occurrence.start - before <= moment < occurrence.end + after:
            return occurrence
    return None


def chained_end(slots: Sequence[Slot], zone: ZoneInfo, current: Occurrence) -> datetime:
    """The end of ``current``, carried on while another of ``slots`` begins
    by then (slots of one station never overlap, so nobody else's is
    between)."""
    end = current.end
    upcoming = occurrences(slots, zone, current.end, current.start + CHAIN_HORIZON)
    for occurrence in upcoming:
        if occurrence.start > end:
            break
        end = max(end, occurrence.end)
    return end


def refusal(
    *,
    station: Station,
    user,
    slots: Sequence[Slot],
    moment: datetime,
    early: timedelta,
) -> str | None:
    """Why ``user`` may not go live on ``station`` at ``moment``; None if
    they may. ``user`` None is a login with the station's source password;
    ``slots`` are the station's."""
    if not station.slots_enforced:
        return None
    if user is None:
        return SOURCE_PASSWORD_REFUSAL
    if may_ignore_slots(user):
        return None
    own = hosted_by(slots, user.pk)
    if slot_around(own, station.zone, moment, before=early) is not None:
        return None
    return outside_slot_reason(
        up_next(own, station.zone, moment), station=station, early=early
    )


def outside_slot_reason(
    upcoming: Occurrence | None, *, station: Station, early: timedelta
) -> str:
    minutes = early.total_seconds() / 60
    reason = (
        "This station keeps DJs to their slots: you may go live from "
        f"{minutes:g} minutes before a slot of a show you host until its end. "
    )
    if upcoming is None:
        return reason + "You have no slot in the coming week"
    local = upcoming.start.astimezone(station.zone)
    return (
        reason + f"Your next slot ({upcoming.show.name}) starts "
        f"{local:%a %d %b %Y %H:%M} ({station.timezone})"
    )


def _active_user(user_id: int):
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def check_air_time(station_id: int, user_id: int, moment: datetime) -> bool:
    """Raise OutsideSlot unless user ``user_id`` may go live on the station
    at ``moment``; True if their slots limit their air time. An id that is
    no user's (the source password's) names no DJ.

    The station is read again: its setting may have changed since the DJ
    connected.
    """
    station = Station.objects.get(pk=station_id)
    if not station.slots_enforced:
        return False
    user = _active_user(user_id)
    reason = refusal(
        station=station,
        user=user,
        slots=station_slots(station),
        moment=moment,
        early=early_window(),
    )
    if reason is not None:
        raise OutsideSlot(reason)
    return not may_ignore_slots(user)


def air_time_end(station_id: int, user_id: int, moment: datetime) -> datetime | None:
    """When the air time of live DJ ``user_id`` ends, by the schedule now:
    the end of their slot that ``moment`` falls in (its overrun counted),
    carried on while their next slot begins by then. None if they have no
    slot around ``moment``; NO_LIMIT if the station no longer keeps DJs to
    their slots or the DJ is staff."""
    station = Station.objects.get(pk=station_id)
    user = _active_user(user_id)
    if not station.slots_enforced or (user is not None and may_ignore_slots(user)):
        return NO_LIMIT
    own = hosted_by(station_slots(station), user_id)
    current = slot_around(
        own, station.zone, moment, before=early_window(), after=overrun()
    )
    return None if current is None else chained_end(own, station.zone, current)


acheck_air_time = database_sync_to_async(check_air_time)
aair_time_end = database_sync_to_async(air_time_end)
