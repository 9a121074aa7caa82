"""The DJ console's library endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from stations.library.models import Track
from stations.library.selectors import station_playlist
from stations.models import Station
from tests.support.playlists import PLAYLIST_NAMES

from .conftest import (
    TAGS,
    assert_nothing_left,
    assert_refused_quietly,
    files_under,
    make_track,
)

pytestmark = pytest.mark.django_db(transaction=True)


def url(name: str, station, **kwargs) -> str:
    return reverse(f"library:{name}", kwargs={"slug": station.slug, **kwargs})


def post_json(client: Client, address: str, data, **extra):
    return client.post(address, data, content_type="application/json", **extra)


def upload(client: Client, station, path: Path):
    with path.open("rb") as file:
        return client.post(url("library", station), {"file": file})


def test_dj_gets_the_library_in_playlist_order(dj_client, station):
    b, a = make_track(station, "b", 1), make_track(station, "a", 0)
    response = dj_client.get(url("library", station))
    assert response.status_code == 200
    assert response.json() == {
        "tracks": [
            {"id": t.pk, "title": t.title, "artist": "", "duration_ms": 180000,
             "position": t.position}
            for t in (a, b)
        ],
        "shuffle": False,
        "crossfade_ms": 2000,
    }  # fmt: skip


def test_dj_uploads_a_track(dj_client, station, music, media):
    response = upload(dj_client, station, music["mp3"])
    assert response.status_code == 201
    track = Track.objects.get()
    assert response.json() == {
        "id": track.pk,
        "title": TAGS["title"],
        "artist": TAGS["artist"],
        "duration_ms": track.duration_ms,
        "position": 0,
    }
    assert files_under(media) == [Path(track.file.path)]


@pytest.mark.parametrize("kind", ["text", "empty", "truncated"])
def test_unusable_upload_is_refused_leaving_nothing(
    dj_client, station, unusable, kind, settings
):
    response = upload(dj_client, station, unusable[kind])
    assert response.status_code == 400
    assert unusable[kind].name in response.json()["error"]
    assert_nothing_left(settings)


@pytest.mark.parametrize("name", PLAYLIST_NAMES)
def test_playlist_upload_is_refused_without_opening_what_it_lists(
    dj_client, station, playlists, http_server, name, settings
):
    """The fixed refusal, no ffmpeg text, and no request to the listed URLs."""
    response = upload(dj_client, station, playlists[name])
    assert response.status_code == 400
    assert_refused_quietly(response.json()["error"], name, http_server)
    assert_nothing_left(settings)


def test_over_long_upload_is_refused(dj_client, station, music, settings):
    settings.RADIO_MAX_TRACK_SECONDS = 2
    response = upload(dj_client, station, music["ogg"])
    assert response.status_code == 400
    assert "at most 0:00:02" in response.json()["error"]
    assert_nothing_left(settings)


def test_too_big_upload_is_refused_by_its_content_length(
    dj_client, station, big_wav, settings
):
    settings.RADIO_MAX_UPLOAD_MB = 1
    response = upload(dj_client, station, big_wav)
    assert response.status_code == 413
    assert response.json() == {"error": "Files may be at most 1 MB."}
    assert_nothing_left(settings)


def test_upload_without_a_file_is_refused(dj_client, station):
    response = dj_client.post(url("library", station), {"other": "x"})
    assert response.status_code == 400
    assert "file" in response.json()["error"]


def test_broken_multipart_is_refused(dj_client, station):
    response = dj_client.post(
        url("library", station), b"junk", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Send the file as multipart/form-data."}


def test_dj_reorders_the_playlist(dj_client, station):
    a, b = make_track(station, "a", 0), make_track(station, "b", 1)
    response = post_json(dj_client, url("order", station), {"track_ids": [b.pk, a.pk]})
    assert response.status_code == 200
    assert [t["title"] for t in response.json()["tracks"]] == ["b", "a"]


@pytest.mark.parametrize(
    "body",
    [
        {"track_ids": "1,2"},
        {"track_ids": [True, False]},
        {"ids": []},
        [1, 2],
        "not json",
    ],
)
def test_bad_order_payload_is_refused(dj_client, station, body):
    make_track(station, "a")
    data = body if body != "not json" else "{"
    response = post_json(dj_client, url("order", station), data)
    assert response.status_code == 400
    assert response.json()["error"]


def test_order_must_name_exactly_the_stations_tracks(dj_client, station):
    a, _ = make_track(station, "a", 0), make_track(station, "b", 1)
    response = post_json(dj_client, url("order", station), {"track_ids": [a.pk]})
    assert response.status_code == 400
    assert "exactly once" in response.json()["error"]


def test_oversized_json_is_refused(dj_client, station):
    response = post_json(
        dj_client, url("order", station), {"track_ids": list(range(100_000))}
    )
    assert response.status_code == 413


def test_dj_changes_the_settings(dj_client, station):
    address = url("settings", station)
    response = post_json(dj_client, address, {"shuffle": True, "crossfade_ms": 500})
    assert response.status_code == 200
    assert (response.json()["shuffle"], response.json()["crossfade_ms"]) == (True, 500)
    response = post_json(dj_client, address, {"crossfade_ms": 0})
    assert (response.json()["shuffle"], response.json()["crossfade_ms"]) == (True, 0)
    playlist = station_playlist(station)
    assert (playlist.shuffle, playlist.crossfade_ms) == (True, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"crossfade_ms": 10_001},
        {"crossfade_ms": -1},
        {"crossfade_ms": "500"},
        {"crossfade_ms": 1.5},
        {"shuffle": "yes"},
        {"volume": 11},
    ],
)
def test_bad_settings_are_refused(dj_client, station, body):
    response = post_json(dj_client, url("settings", station), body)
    assert response.status_code == 400
    assert response.json()["error"]
    playlist = station_playlist(station)
    assert (playlist.shuffle, playlist.crossfade_ms) == (False, 2000)


def test_dj_deletes_a_track_and_its_file(dj_client, station, music, media):
    upload(dj_client, station, music["flac"])
    track = Track.objects.get()
    response = dj_client.post(url("delete", station, track_id=track.pk))
    assert response.status_code == 200
    assert response.json()["tracks"] == []
    assert files_under(media) == []


def test_deleting_another_stations_track_is_not_found(dj_client, station):
    other = Station.objects.create(slug="other-fm", name="Other FM")
    track = make_track(other, "theirs")
    response = dj_client.post(url("delete", station, track_id=track.pk))
    assert response.status_code == 404
    assert Track.objects.filter(pk=track.pk).exists()


ENDPOINTS = [
    ("get", "library", {}),
    ("post", "library", {}),
    ("post", "order", {}),
    ("post", "settings", {}),
    ("post", "delete", {"track_id": 1}),
]


@pytest.mark.parametrize(("method", "name", "kwargs"), ENDPOINTS)
@pytest.mark.parametrize("who", ["anonymous", "listener", "other_dj"])
def test_only_the_stations_djs_get_in(client, station, who, method, name, kwargs):
    """Anonymous visitors, signed-in listeners and other stations' DJs: 403."""
    if who != "anonymous":
        user = get_user_model().objects.create_user(who, password=None)
        if who == "other_dj":
            Station.objects.create(slug="other-fm", name="Other").djs.add(user)
        client.force_login(user)
    response = getattr(client, method)(url(name, station, **kwargs))
    assert response.status_code == 403
    assert response.json() == {"error": "Only this station's DJs may use its library."}


def test_unknown_station_is_not_found(dj_client):
    response = dj_client.get(reverse("library:library", kwargs={"slug": "nope"}))
    assert response.status_code == 404
    assert response.json() == {"error": "No such station."}


def test_wrong_method_is_refused(dj_client, station):
    response = dj_client.get(url("order", station))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]


def test_posts_need_the_csrf_token(dj_user, station):
    """Without the token a POST gets 403; with the cookie's value it passes."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(dj_user)
    address = url("settings", station)
    refused = post_json(client, address, {"shuffle": True})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]
    client.get(url("library", station))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = post_json(client, address, {"shuffle": True}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_uploads_need_the_csrf_token(dj_user, station, music, settings):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dj_user)
    response = upload(client, station, music["mp3"])
    assert response.status_code == 403
    assert_nothing_left(settings)
