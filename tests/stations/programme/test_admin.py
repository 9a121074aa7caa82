"""The admin: shows with their slots inline, overlaps refused in the form,
one-off slots in the station's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations.programme.models import Show, Slot


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("boss", password="x"))
    return client


def show_data(station, hosts, *slots: dict) -> dict:
    data = {
        "station": station.pk,
        "name": "Jazz",
        "slug": "jazz",
        "description": "",
        "hosts": [host.pk for host in hosts],
        "slots-TOTAL_FORMS": len(slots),
        "slots-INITIAL_FORMS": 0,
        "slots-MIN_NUM_FORMS": 0,
        "slots-MAX_NUM_FORMS": 1000,
    }
    for index, slot in enumerate(slots):
        for name, value in slot.items():
            data[f"slots-{index}-{name}"] = value
    return data


WEEKLY_MONDAY_8PM = {"kind": "weekly", "weekday": 0, "start_time": "20:00",
                     "duration_minutes": 60}  # fmt: skip


def test_a_show_is_added_with_slots_and_one_offs_in_station_time(
    staff_client, berlin, host
):
    once = {"kind": "once", "starts_at_0": "2026-12-24", "starts_at_1": "18:00",
            "duration_minutes": 60}  # fmt: skip
    response = staff_client.post(
        reverse("admin:programme_show_add"),
        show_data(berlin, [host], WEEKLY_MONDAY_8PM, once),
    )
    assert response.status_code == 302, response.content
    show = Show.objects.get()
    assert show.slots.count() == 2
    assert show.slots.get(kind="once").starts_at == datetime(
        2026, 12, 24, 17, tzinfo=UTC
    )


def test_overlapping_slots_are_refused_with_the_message_in_the_form(
    staff_client, berlin, host
):
    clash = {**WEEKLY_MONDAY_8PM, "start_time": "20:30"}
    response = staff_client.post(
        reverse("admin:programme_show_add"),
        show_data(berlin, [host], WEEKLY_MONDAY_8PM, clash),
    )
    assert response.status_code == 200
    assert "It overlaps &quot;Jazz&quot; on Mondays 20:00-21:00 (Europe/Berlin)." in (
        response.content.decode()
    )
    assert not Show.objects.exists() and not Slot.objects.exists()


def test_hosts_who_are_not_djs_are_refused(staff_client, berlin, stranger):
    response = staff_client.post(
        reverse("admin:programme_show_add"), show_data(berlin, [stranger])
    )
    assert response.status_code == 200
    assert "Not a DJ of Berlin FM: stranger." in response.content.decode()
    assert not Show.objects.exists()


def test_the_station_list_shows_the_programme_settings(staff_client, berlin):
    response = staff_client.get(reverse("admin:stations_station_changelist"))
    page = response.content.decode()
    assert "Europe/Berlin" in page
    assert "DJs keep to their slots" in page
    assert "record live broadcasts" in page.lower()


def test_the_show_pages_open(staff_client, berlin, host):
    staff_client.post(
        reverse("admin:programme_show_add"),
        show_data(berlin, [host], WEEKLY_MONDAY_8PM),
    )
    show = Show.objects.get()
    assert staff_client.get(reverse("admin:programme_show_add")).status_code == 200
    changelist = staff_client.get(reverse("admin:programme_show_changelist"))
    assert "Jazz" in changelist.content.decode()
    change = staff_client.get(reverse("admin:programme_show_change", args=[show.pk]))
    assert change.status_code == 200
    assert 'value="20:00:00"' in change.content.decode()
