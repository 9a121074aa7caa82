"""The AutoDJ's settings move from the station to its playlist, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("library", "0001_initial"),
    ("stations", "0003_station_crossfade_ms_station_shuffle"),
]
AFTER = [
    ("library", "0003_playlist_settings_from_stations"),
    ("stations", "0004_remove_station_crossfade_ms_remove_station_shuffle"),
]


def migrate(targets):
    """Migrate to ``targets``; the app registry as of then."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def fully_migrated_after():
    """Leave the database fully migrated, as the other tests need it, even
    when migrations come after AFTER."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_settings_go_to_the_playlists_and_come_back():
    old = migrate(BEFORE)
    Station = old.get_model("stations", "Station")
    cursor_of = old.get_model("library", "PlayoutCursor").objects.create
    playing = Station.objects.create(
        slug="a", name="A", crossfade_ms=4321, shuffle=True
    )
    cursor_of(station=playing, last_position=3)
    Station.objects.create(slug="b", name="B", crossfade_ms=1234)

    new = migrate(AFTER)
    playlists = new.get_model("library", "Playlist").objects.order_by("station__slug")
    assert list(playlists.values_list("station__slug", "shuffle", "crossfade_ms")) == [
        ("a", True, 4321),
        ("b", False, 1234),
    ]
    assert playlists.get(station__slug="a").last_position == 3

    playlists.filter(station__slug="b").update(shuffle=True, crossfade_ms=0)
    old = migrate(BEFORE)
    stations = old.get_model("stations", "Station").objects.order_by("slug")
    assert list(stations.values_list("slug", "shuffle", "crossfade_ms")) == [
        ("a", True, 4321),
        ("b", True, 0),
    ]
