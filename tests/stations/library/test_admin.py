"""Adding tracks through the Django admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from stations.library.models import Track

from .conftest import TAGS, assert_nothing_left, files_under, unplayable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", password="x"))
    return client


def add(client, station, path: Path):
    with path.open("rb") as file:
        return client.post(
            reverse("admin:library_track_add"), {"station": station.pk, "file": file}
        )


def test_admin_adds_an_uploaded_track(admin_client, station, music, media):
    response = add(admin_client, station, music["mp3"])
    assert response.status_code == 302
    track = Track.objects.get()
    assert (track.title, track.artist) == (TAGS["title"], TAGS["artist"])
    assert files_under(media) == [Path(track.file.path)]
    change = admin_client.get(reverse("admin:library_track_change", args=[track.pk]))
    assert change.status_code == 200


def test_admin_shows_why_a_file_is_refused(admin_client, station, unusable, settings):
    response = add(admin_client, station, unusable["text"])
    assert response.status_code == 200
    assert unplayable("letter.mp3") in response.content.decode()
    assert_nothing_left(settings)


def test_admin_deletes_the_file_with_the_track(admin_client, station, music, media):
    add(admin_client, station, music["flac"])
    track = Track.objects.get()
    response = admin_client.post(
        reverse("admin:library_track_delete", args=[track.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert files_under(media) == []


def test_station_admin_shows_the_playout_settings(admin_client, station):
    response = admin_client.get(
        reverse("admin:stations_station_change", args=[station.pk])
    )
    assert 'name="playlist-0-crossfade_ms"' in response.content.decode()
    assert 'name="playlist-0-shuffle"' in response.content.decode()
