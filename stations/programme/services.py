"""Changing a station's programme: its shows and their slots.

Every change tells the station's listeners the new "on now" and "up next"
once it commits (``live.notify_schedule_on_commit``). Problems raise
``ProgrammeError``s whose message is fit to show as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.text import slugify

from stations.models import Station

from .live import notify_schedule_on_commit
from .models import Show, Slot
from .schedule import overlapping
from .selectors import station_slots

# A show named only in characters a slug cannot hold gets this slug.
FALLBACK_SLUG = "show"


class ProgrammeError(ValueError):
    """A change to the programme that cannot be made; the message says why."""


class NotStationDjs(ProgrammeError):
    """A show's hosts must be DJs of its station."""


class SlotOverlaps(ProgrammeError):
    """A slot would be on at the same time as another of the station's."""


class NoSuchLocalTime(ProgrammeError):
    """A local time the clock skips (it goes forward for daylight saving)."""


def _validated(thing: Show | Slot) -> None:
    """Check ``thing``'s fields, raising ProgrammeError with what is wrong."""
    try:
        thing.full_clean()
    except ValidationError as problem:
        raise ProgrammeError(
            " ".join(
                " ".join(errors)
                if name == NON_FIELD_ERRORS
                else f"{thing._meta.get_field(name).verbose_name}: {' '.join(errors)}"
                for name, errors in problem.message_dict.items()
            )
        ) from None


def slot_describe(slot: Slot, station: Station) -> str:
    """When ``slot`` is on, in the station's local time: "Mondays 20:00-22:00"."""
    if slot.kind == Slot.Kind.WEEKLY:
        # Any day will do: only the times are shown.
        start = datetime.combine(date(2001, 1, 1), slot.start_time)
        days = f"{Slot.Weekday(slot.weekday).label}s"
    else:
        start = slot.starts_at.astimezone(station.zone).replace(tzinfo=None)
        days = f"{start:%Y-%m-%d}"
    end = start + timedelta(minutes=slot.duration_minutes)
    return f"{days} {start:%H:%M}-{end:%H:%M} ({station.timezone})"


def slot_check_overlap(slot: Slot, station: Station, others: Iterable[Slot]) -> None:
    """Raise SlotOverlaps naming the show and time of one of ``others`` that
    ``slot`` would be on air with."""
    other = overlapping(slot, list(others), station.zone)
    if other is not None:
        raise SlotOverlaps(
            f'It overlaps "{other.show.name}" on {slot_describe(other, station)}.'
        )


def show_hosts_check(station: Station, hosts: Iterable[AbstractBaseUser]) -> None:
    """Raise NotStationDjs unless every one of ``hosts`` is a DJ of ``station``."""
    hosts = list(hosts)
    djs = set(station.djs.filter(pk__in=[h.pk for h in hosts]).values_list("pk"))
    strangers = sorted(h.get_username() for h in hosts if (h.pk,) not in djs)
    if strangers:
        raise NotStationDjs(
            f"Not a DJ of {station.name}: {', '.join(strangers)}. Hosts must be "
            "the station's DJs."
        )


def _free_slug(station: Station, name: str, *, keep: Show | None = None) -> str:
    base = slugify(name)[:40] or FALLBACK_SLUG
    taken = set(
        Show.objects.filter(station=station, slug__startswith=base)
        .exclude(pk=keep.pk if keep else None)
        .values_list("slug", flat=True)
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _show_save(
    show: Show, *, name: str, description: str, hosts: Iterable[AbstractBaseUser]
) -> Show:
    hosts = list(hosts)
    show_hosts_check(show.station, hosts)
    show.name = name.strip()
    show.description = description.strip()
    if not show.slug:
        show.slug = _free_slug(show.station, show.name)
    _validated(show)
    show.save()
    show.hosts.set(hosts)
    notify_schedule_on_commit(show.station_id)
    return show


@transaction.atomic
def show_create(
    *,
    station: Station,
    name: str,
    hosts: Iterable[AbstractBaseUser],
    description: str = "",
) -> Show:
    """A new show of ``station``, its slug made from its name."""
    return _show_save(
        Show(station=station), name=name, description=description, hosts=hosts
    )


@transaction.atomic
def show_update(
    *,
    show: Show,
    name: str,
    hosts: Iterable[AbstractBaseUser],
    description: str = "",
) -> Show:
    """Rename, describe and re-host ``show``; its slug stays as it was."""
    return _show_save(show, name=name, description=description, hosts=hosts)


@transaction.atomic
def show_delete(*, show: Show) -> None:
    """Delete ``show`` and its slots; its episodes and plays stay, showless."""
    station_id = show.station_id
    show.delete()
    notify_schedule_on_commit(station_id)


def local_instant(day_and_time: datetime, station: Station) -> datetime:
    """A naive local date and time of the station as an aware UTC instant.

    A time the clock skips is refused; one it passes twice is the first.
    """
    zone = station.zone
    aware = day_and_time.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != day_and_time:
        raise NoSuchLocalTime(
            f"{day_and_time:%Y-%m-%d %H:%M} does not exist in {station.timezone}: "
            "the clocks go forward then. Pick a time after the change."
        )
    return aware.astimezone(UTC)


def _slot_add(slot: Slot) -> Slot:
    station = Station.objects.select_for_update().get(pk=slot.show.station_id)
    _validated(slot)
    slot_check_overlap(slot, station, station_slots(station))
    slot.save()
    notify_schedule_on_commit(station.pk)
    return slot


@transaction.atomic
def slot_add_weekly(*, show: Show, weekday: int, start: time, minutes: int) -> Slot:
    """A weekly slot of ``show``: every ``weekday`` (0 is Monday) at the
    station's local time ``start``. Raises SlotOverlaps."""
    slot = Slot(
        show=show,
        kind=Slot.Kind.WEEKLY,
        weekday=weekday,
        start_time=start.replace(second=0, microsecond=0),
        duration_minutes=minutes,
    )
    return _slot_add(slot)


@transaction.atomic
def slot_add_once(*, show: Show, local_start: datetime, minutes: int) -> Slot:
    """A one-off slot of ``show`` from ``local_start``, a naive date and time
    of the station's time zone. Raises SlotOverlaps or NoSuchLocalTime."""
    starts_at = local_instant(
        local_start.replace(second=0, microsecond=0), show.station
    )
    slot = Slot(
        show=show, kind=Slot.Kind.ONCE, starts_at=starts_at, duration_minutes=minutes
    )
    return _slot_add(slot)


@transaction.atomic
def slot_remove(*, slot: Slot) -> None:
    station_id = slot.show.station_id
    slot.delete()
    notify_schedule_on_commit(station_id)


@transaction.atomic
def show_ensure(
    *,
    station: Station,
    name: str,
    hosts: Iterable[AbstractBaseUser],
    description: str | None = None,
) -> tuple[Show, bool]:
    """The station's show called ``name``, made if there is none; True if it
    was made. ``hosts`` join its hosts; a ``description`` replaces its own."""
    hosts = list(hosts)
    show = Show.objects.filter(station=station, name=name.strip()).first()
    if show is None:
        return show_create(
            station=station, name=name, hosts=hosts, description=description or ""
        ), True
    return show_update(
        show=show,
        name=show.name,
        hosts=[*show.hosts.all(), *hosts],
        description=show.description if description is None else description,
    ), False
