"""``/api/stations/<slug>/schedule`` and ``/history``, and the playlist files
``/listen/<slug>.m3u`` and ``.pls``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from stations.api.programme import HISTORY_MAX_PAGE_PLAYS
from stations.models import Station
from stations.programme.models import Play, Show, Slot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def station() -> Station:
    return Station.objects.create(slug="prog-fm", name="Prog\nFM")


def test_the_schedule_lists_the_coming_week_in_azuracasts_shape(station):
    now = datetime.now(UTC)
    show = Show.objects.create(
        station=station, name="Morning", slug="morning", description="Early"
    )
    on_now = Slot.objects.create(
        show=show,
        kind=Slot.Kind.ONCE,
        starts_at=now - timedelta(minutes=10),
        duration_minutes=60,
    )
    Slot.objects.create(
        show=show,
        kind=Slot.Kind.ONCE,
        starts_at=now + timedelta(days=8),
        duration_minutes=60,
    )

    [entry] = Client().get("/api/stations/prog-fm/schedule").json()

    assert entry == {
        "id": on_now.pk,
        "type": "show",
        "name": "Morning",
        "title": "Morning",
        "description": "Early",
        "start_timestamp": int(on_now.starts_at.timestamp()),
        "start": on_now.starts_at.isoformat(),
        "end_timestamp": int(on_now.starts_at.timestamp()) + 3600,
        "end": (on_now.starts_at + timedelta(hours=1)).isoformat(),
        "is_now": True,
    }


def test_the_history_is_paged_newest_first(station):
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)
    for minute in range(5):
        Play.objects.create(
            station=station,
            title=f"Song {minute}",
            source="autodj",
            started_at=start + timedelta(minutes=minute),
        )
    client = Client()

    first = client.get("/api/stations/prog-fm/history?limit=2").json()
    second = client.get("/api/stations/prog-fm/history?limit=2&page=2").json()

    assert [entry["song"]["title"] for entry in first] == ["Song 4", "Song 3"]
    assert [entry["song"]["title"] for entry in second] == ["Song 2", "Song 1"]
    assert second[0]["duration"] == 60
    assert second[0]["played_at"] == int((start + timedelta(minutes=2)).timestamp())


def test_bad_history_pages_are_refused_with_a_detail(station):
    client = Client()

    too_long = client.get(
        f"/api/stations/prog-fm/history?limit={HISTORY_MAX_PAGE_PLAYS + 1}"
    )
    not_a_page = client.get("/api/stations/prog-fm/history?page=x")
    unknown = client.get("/api/stations/nope/history")

    assert too_long.status_code == not_a_page.status_code == 422
    assert "detail" in too_long.json()
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No such station."}


@pytest.mark.parametrize(
    ("suffix", "content_type", "lines"),
    [
        (
            "m3u",
            "audio/x-mpegurl",
            [
                "#EXTM3U",
                "#EXTINF:-1,Prog FM",
                "http://testserver/stations/prog-fm/stream.mp3",
            ],
        ),
        (
            "pls",
            "audio/x-scpls",
            [
                "[playlist]",
                "File1=http://testserver/stations/prog-fm/stream.mp3",
                "Title1=Prog FM",
                "Length1=-1",
                "NumberOfEntries=1",
                "Version=2",
            ],
        ),
    ],
)
def test_playlist_files_point_at_the_stream(station, suffix, content_type, lines):
    answer = Client().get(f"/listen/prog-fm.{suffix}")

    assert answer["Content-Type"].split(";")[0] == content_type
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert answer.content.decode().splitlines() == lines


def test_an_unknown_stations_playlist_is_a_404():
    assert Client().get("/listen/nope.m3u").status_code == 404
