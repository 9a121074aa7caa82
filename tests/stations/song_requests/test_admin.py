"""Staff set a station's request rules and see its requests in the admin."""

from __future__ import annotations

import pytest

from stations.song_requests.models import RequestRules, SongRequest

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_turn_requests_on_with_their_rules(admin_client, station):
    response = admin_client.post(
        "/admin/song_requests/requestrules/add/",
        {
            "station": station.pk,
            "enabled": "on",
            "per_user_minutes": 2,
            "repeat_minutes": 90,
            "max_pending": 5,
            "artist_separation": "",
        },
    )

    assert response.status_code == 302
    rules = RequestRules.objects.get(station=station)
    assert (rules.enabled, rules.per_user_minutes, rules.max_pending) == (True, 2, 5)
    assert rules.artist_separation is False


def test_rules_past_their_limits_are_refused(admin_client, station):
    response = admin_client.post(
        "/admin/song_requests/requestrules/add/",
        {"station": station.pk, "per_user_minutes": 5, "repeat_minutes": 60,
         "max_pending": 0},
    )  # fmt: skip

    assert response.status_code == 200
    assert "max_pending" in response.context["adminform"].form.errors
    assert not RequestRules.objects.exists()


def test_the_requests_are_listed(admin_client, station, tracks, users):
    SongRequest.objects.create(station=station, track=tracks["Blue"], user=users[0])

    response = admin_client.get("/admin/song_requests/songrequest/")

    assert response.status_code == 200
    assert "The Band - Blue" in response.content.decode()
