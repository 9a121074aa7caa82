"""The studio's shows pages, the public schedule and its iCalendar feed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stations.programme.models import Show, Slot
from stations.programme.services import show_create, slot_add_once, slot_add_weekly

MONDAY, WEDNESDAY = 0, 2


@pytest.fixture
def jazz(berlin, host) -> Show:
    show = show_create(
        station=berlin, name="Jazz <b>Night</b>", hosts=[host], description="Cool."
    )
    slot_add_weekly(show=show, weekday=MONDAY, start=time(20), minutes=120)
    return show


def shows_url(station) -> str:
    return reverse("programme:studio_shows", args=[station.slug])


def show_url(show) -> str:
    return reverse("programme:studio_show", args=[show.station.slug, show.slug])


# --- Who may change the shows ------------------------------------------------


def test_signed_out_users_are_sent_to_sign_in(client, berlin, jazz):
    for url in (shows_url(berlin), show_url(jazz)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_other_users_are_refused_and_change_nothing(client, berlin, jazz, stranger):
    client.force_login(stranger)
    assert client.get(shows_url(berlin)).status_code == 403
    assert client.post(shows_url(berlin), {"name": "Mine"}).status_code == 403
    delete = reverse("programme:studio_show_delete", args=[berlin.slug, jazz.slug])
    assert client.post(delete).status_code == 403
    assert list(Show.objects.values_list("name", flat=True)) == ["Jazz <b>Night</b>"]


def test_staff_may_edit_any_station(client, berlin, jazz):
    staff = get_user_model().objects.create_user("boss", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(shows_url(berlin)).status_code == 200


def test_the_studio_links_the_shows_page(client, berlin, host):
    client.force_login(host)
    page = client.get(reverse("stations:studio", args=[berlin.slug])).content.decode()
    assert f'href="{shows_url(berlin)}"' in page


# --- The forms -----------------------------------------------------------------


def test_the_list_shows_shows_escaped_with_their_slots(client, berlin, host, jazz):
    client.force_login(host)
    page = client.get(shows_url(berlin)).content.decode()
    assert "Jazz &lt;b&gt;Night&lt;/b&gt;" in page
    assert "Mondays 20:00-22:00 (Europe/Berlin)" in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_dj_makes_a_show_then_gives_it_a_slot(client, berlin, host, co_host):
    client.force_login(host)
    response = client.post(
        shows_url(berlin), {"name": "Breakfast", "hosts": [host.pk, co_host.pk]}
    )
    show = Show.objects.get(name="Breakfast")
    assert response.status_code == 302 and response["Location"] == show_url(show)
    assert set(show.hosts.all()) == {host, co_host}
    add = reverse("programme:slot_add", args=[berlin.slug, show.slug])
    response = client.post(
        add, {"kind": "once", "date": "2026-12-24", "start": "07:00", "minutes": 60}
    )
    assert response.status_code == 302
    assert show.slots.get().starts_at == datetime(2026, 12, 24, 6, tzinfo=UTC)
    page = client.get(show_url(show)).content.decode()
    assert "Added a slot: 2026-12-24 07:00-08:00 (Europe/Berlin)." in page


def test_an_overlapping_slot_is_refused_with_the_reason(client, berlin, host, jazz):
    client.force_login(host)
    other = show_create(station=berlin, name="Other", hosts=[host])
    add = reverse("programme:slot_add", args=[berlin.slug, other.slug])
    response = client.post(
        add, {"kind": "weekly", "weekday": MONDAY, "start": "21:00", "minutes": 60}
    )
    assert response.status_code == 400
    assert (
        "It overlaps &quot;Jazz &lt;b&gt;Night&lt;/b&gt;&quot; on Mondays 20:00-22:00"
        in response.content.decode()
    )
    assert not other.slots.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "weekly", "start": "21:00", "minutes": 60},
        {"kind": "once", "start": "21:00", "minutes": 60},
        {"kind": "weekly", "weekday": 1, "start": "21:00", "minutes": 1441},
        {"kind": "sometimes", "weekday": 1, "start": "21:00", "minutes": 60},
    ],
)
def test_bad_slots_are_refused(client, berlin, host, jazz, data):
    client.force_login(host)
    add = reverse("programme:slot_add", args=[berlin.slug, jazz.slug])
    assert client.post(add, data).status_code == 400
    assert jazz.slots.count() == 1


def test_hosts_must_be_the_stations_djs(client, berlin, host, stranger, jazz):
    client.force_login(host)
    response = client.post(show_url(jazz), {"name": "Jazz", "hosts": [stranger.pk]})
    assert response.status_code == 400
    assert list(jazz.hosts.all()) == [host]


def test_too_long_a_name_is_refused(client, berlin, host):
    client.force_login(host)
    assert client.post(shows_url(berlin), {"name": "x" * 101}).status_code == 400
    assert not Show.objects.exists()


def test_a_dj_edits_and_deletes_a_show_and_removes_a_slot(client, berlin, host, jazz):
    client.force_login(host)
    response = client.post(show_url(jazz), {"name": "Jazz", "description": "New."})
    assert response.status_code == 302
    jazz.refresh_from_db()
    assert (jazz.name, jazz.description, jazz.hosts.count()) == ("Jazz", "New.", 0)
    slot = jazz.slots.get()
    remove = reverse("programme:slot_delete", args=[berlin.slug, jazz.slug, slot.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    assert not Slot.objects.exists()
    delete = reverse("programme:studio_show_delete", args=[berlin.slug, jazz.slug])
    assert client.post(delete)["Location"] == shows_url(berlin)
    assert not Show.objects.exists()


# --- The public schedule ---------------------------------------------------------


class TimeCollector(HTMLParser):
    """The ``datetime`` of every ``<time>`` element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "time":
            self.times.append(dict(attrs)["datetime"])


def test_the_schedule_lists_the_week_in_station_time_and_as_data(client, berlin, jazz):
    # Monday 2026-03-23 is before the clocks go forward (CET, UTC+1); the
    # Monday after (2026-03-30) is after it (CEST, UTC+2).
    for week, utc_hour in (("2026-03-25", 19), ("2026-03-30", 18)):
        response = client.get(
            reverse("programme:schedule", args=[berlin.slug]), {"week": week}
        )
        assert response.status_code == 200
        page = response.content.decode()
        collector = TimeCollector()
        collector.feed(page)
        monday = date.fromisoformat(week) - timedelta(
            days=date.fromisoformat(week).weekday()
        )
        start = datetime.combine(monday, time(utc_hour), tzinfo=UTC).isoformat()
        assert collector.times[0] == start
        assert ">20:00</time>" in page
        assert "Jazz &lt;b&gt;Night&lt;/b&gt;" in page
        assert "with host</span>" in page
        data = json.loads(
            page.split('id="schedule-occurrences" type="application/json">')[1].split(
                "</script>"
            )[0]
        )
        assert start in [occurrence["start"] for occurrence in data]
        assert data[0]["show"]["hosts"] == ["host"]
        previous = (monday - timedelta(days=7)).isoformat()
        assert f"?week={previous}" in page


def test_the_schedule_marks_the_show_on_now(client, berlin, host):
    show = show_create(station=berlin, name="Now", hosts=[host])
    local_now = timezone.now().astimezone(berlin.zone).replace(tzinfo=None)
    slot_add_once(show=show, local_start=local_now - timedelta(minutes=5), minutes=30)
    page = client.get(
        reverse("programme:schedule", args=[berlin.slug])
    ).content.decode()
    assert "On now</span>" in page


@pytest.mark.parametrize(
    "week", ["yesterday", "2026-13-01", "0001-01-01", "2026-01-01x"]
)
def test_a_bad_week_is_a_400(client, berlin, week):
    response = client.get(
        reverse("programme:schedule", args=[berlin.slug]), {"week": week}
    )
    assert response.status_code == 400


def test_the_schedule_links_its_calendar(client, berlin):
    page = client.get(
        reverse("programme:schedule", args=[berlin.slug])
    ).content.decode()
    ics = reverse("programme:schedule_ics", args=[berlin.slug])
    assert '<link rel="alternate" type="text/calendar"' in page
    assert f'href="{ics}"' in page


def test_the_calendar_parses_back_with_rrule_tzid_and_stable_uids(
    client, berlin, host, jazz
):
    once = slot_add_once(show=jazz, local_start=datetime(2026, 12, 24, 18), minutes=60)
    url = reverse("programme:schedule_ics", args=[berlin.slug])
    response = client.get(url)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    zones = [zone["TZID"] for zone in calendar.walk("VTIMEZONE")]
    assert zones == ["Europe/Berlin"]
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    weekly_slot = jazz.slots.get(kind="weekly")
    weekly = events[f"slot-{weekly_slot.pk}@testserver"]
    assert weekly["SUMMARY"] == "Jazz <b>Night</b>"
    assert weekly["RRULE"]["FREQ"] == ["WEEKLY"] and weekly["RRULE"]["BYDAY"] == ["MO"]
    start = weekly.decoded("DTSTART")
    assert start.tzinfo.key == "Europe/Berlin"
    assert (start.weekday(), start.time()) == (MONDAY, time(20))
    assert weekly.decoded("DURATION") == timedelta(hours=2)
    assert b"DTSTART;TZID=Europe/Berlin:" in response.content
    one_off = events[f"slot-{once.pk}@testserver"]
    assert "RRULE" not in one_off
    assert one_off.decoded("DTSTART") == datetime(2026, 12, 24, 17, tzinfo=UTC)
    assert set(events) == {
        str(e["UID"])
        for e in icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")
    }


def test_forms_need_the_csrf_token(berlin, host):
    client = Client(enforce_csrf_checks=True)
    client.force_login(host)
    assert client.post(shows_url(berlin), {"name": "Sneaky"}).status_code == 403
    assert not Show.objects.exists()
