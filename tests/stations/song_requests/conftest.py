"""A station with a library and request rules, listeners who ask."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from stations.library.models import Track
from stations.models import Station
from stations.song_requests.services import request_rules_update


def make_track(station: Station, title: str, artist: str = "", position: int = 0):
    """A track row without a real file."""
    return Track.objects.create(
        station=station,
        file=f"tracks/{station.pk}/{title}.mp3",
        title=title,
        artist=artist,
        duration_ms=4000,
        loudness_lufs=-16.0,
        position=position,
    )


@pytest.fixture
def station(transactional_db) -> Station:
    return Station.objects.create(slug="test-fm", name="Test FM")


@pytest.fixture
def tracks(station) -> dict[str, Track]:
    """Four tracks, two of them by one artist."""
    return {
        title: make_track(station, title, artist, position)
        for position, (title, artist) in enumerate(
            [
                ("Blue", "The Band"),
                ("Red", "The Band"),
                ("Green", "Solo"),
                ("Quiet", ""),
            ]
        )
    }


@pytest.fixture
def rules(station):
    """Requests on, with the defaults."""
    return request_rules_update(station=station, enabled=True)


@pytest.fixture
def users(transactional_db) -> list:
    """Listeners, as many as the tests need."""
    user_model = get_user_model()
    return [user_model.objects.create_user(f"listener{n}") for n in range(12)]
