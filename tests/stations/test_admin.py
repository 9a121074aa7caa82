"""The admin: staff remove chat messages the way a DJ does, set the
station's source password without ever seeing it, and its most listeners."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations.admin import StationForm
from stations.models import ChatMessage, Station

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_action_removes_messages_from_the_chat(client):
    """The admin action marks the chosen messages deleted, and only those."""
    staff = get_user_model().objects.create_superuser("boss", password="x")
    station = Station.objects.create(slug="test-fm", name="Test FM")
    spam, fine = (
        ChatMessage.objects.create(station=station, user=staff, text=text)
        for text in ("spam", "fine")
    )
    client.force_login(staff)
    response = client.post(
        reverse("admin:stations_chatmessage_changelist"),
        {"action": "remove_from_chat", "_selected_action": [spam.pk]},
    )
    assert response.status_code == 302
    spam.refresh_from_db()
    fine.refresh_from_db()
    assert spam.deleted_at is not None
    assert fine.deleted_at is None


# --- The source password ---------------------------------------------------------


def station_form(station: Station, **changes) -> StationForm:
    data = {
        "slug": station.slug,
        "name": station.name,
        "description": station.description,
        "bitrate": station.bitrate,
        "timezone": station.timezone,
        "max_listeners": station.max_listeners,
        "djs": [],
        **changes,
    }
    return StationForm(data=data, instance=station)


def save(form: StationForm) -> Station:
    assert form.is_valid(), form.errors
    form.save()
    return Station.objects.get(pk=form.instance.pk)


def test_the_source_password_is_set_kept_and_cleared():
    station = Station.objects.create(slug="test-fm", name="Test FM")
    station = save(station_form(station, new_source_password="hackme"))
    assert station.check_source_password("hackme")
    station = save(station_form(station, name="Renamed"))
    assert (station.name, station.check_source_password("hackme")) == (
        "Renamed",
        True,
    )
    station = save(station_form(station, clear_source_password="on"))
    assert station.source_password == ""


def test_staff_set_the_most_listeners_a_station_takes():
    """The station form sets ``max_listeners``; 0, the default, is no limit."""
    station = Station.objects.create(slug="test-fm", name="Test FM")
    assert station.max_listeners == 0
    assert save(station_form(station, max_listeners="250")).max_listeners == 250
    assert not station_form(station, max_listeners="-1").is_valid()


def test_setting_and_clearing_at_once_is_refused():
    station = Station.objects.create(slug="test-fm", name="Test FM")
    form = station_form(
        station, new_source_password="hackme", clear_source_password="on"
    )
    assert not form.is_valid()


def test_the_change_page_never_shows_the_hash(client):
    staff = get_user_model().objects.create_superuser("boss", password="x")
    station = Station.objects.create(slug="test-fm", name="Test FM")
    station.set_source_password("hackme")
    station.save()
    client.force_login(staff)
    page = client.get(reverse("admin:stations_station_change", args=[station.pk]))
    assert page.status_code == 200
    assert b'name="new_source_password"' in page.content
    assert b'name="clear_source_password"' in page.content
    assert station.source_password.encode() not in page.content
