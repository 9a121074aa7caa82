"""A station's schedule as an iCalendar feed (RFC 5545), for calendar apps.

Weekly slots are recurring events at their local time in the station's time
zone (``RRULE:FREQ=WEEKLY``), so calendars move them across daylight-saving
changes as the station does; one-off slots are single events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from icalendar import Calendar, Event, vRecur

from stations.models import Station

from .models import Slot
from .schedule import local_start

PRODUCT_ID = "-//radio//schedule//EN"
ICAL_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def slot_uid(slot: Slot, domain: str) -> str:
    """The slot's event UID: the same in every download of the feed."""
    return f"slot-{slot.pk}@{domain}"


def first_start(slot: Slot, station: Station) -> datetime:
    """Where a slot's events begin, in the station's zone: a one-off's start,
    or a weekly slot's first day on or after its show was made."""
    zone = station.zone
    if slot.kind == Slot.Kind.ONCE:
        return slot.starts_at.astimezone(zone)
    made = slot.show.created_at.astimezone(zone).date()
    day = made + timedelta(days=(slot.weekday - made.weekday()) % 7)
    return local_start(day, slot.start_time, zone).astimezone(zone)


def slot_event(slot: Slot, station: Station, domain: str) -> Event:
    show = slot.show
    event = Event()
    event.add("uid", slot_uid(slot, domain))
    event.add("dtstamp", timezone.now())
    event.add("summary", show.name)
    if show.description:
        event.add("description", show.description)
    event.add("dtstart", first_start(slot, station))
    event.add("duration", timedelta(minutes=slot.duration_minutes))
    if slot.kind == Slot.Kind.WEEKLY:
        event.add("rrule", vRecur(freq="WEEKLY", byday=ICAL_WEEKDAYS[slot.weekday]))
    return event


def station_calendar(station: Station, slots: list[Slot], domain: str) -> bytes:
    """The station's slots as an iCalendar document with its time zone."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", station.name)
    calendar.add("x-wr-timezone", station.timezone)
    for slot in slots:
        calendar.add_component(slot_event(slot, station, domain))
    calendar.add_missing_timezones()
    return calendar.to_ical()
