"""``manage.py setupdemo``: the demo station, its DJ, and music to play."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from stations.library.models import Track
from stations.models import Station

pytestmark = pytest.mark.django_db


def test_the_demo_station_has_a_dj_and_a_library_to_play(settings, tmp_path, capsys):
    settings.MEDIA_ROOT = tmp_path
    call_command("setupdemo")
    password = capsys.readouterr().out.rsplit("password '", 1)[1].split("'")[0]

    station = Station.objects.get(slug="demo")
    assert authenticate(username="demo-dj", password=password) is not None
    assert list(station.djs.values_list("username", flat=True)) == ["demo-dj"]
    tracks = list(Track.objects.filter(station=station).order_by("position"))
    assert [track.artist for track in tracks] == ["radio demo"] * 3
    assert all(track.duration_ms == pytest.approx(40_000, rel=0.02) for track in tracks)
    assert all(-22 < track.loudness_lufs < -10 for track in tracks)

    show = station.shows.get()
    assert list(show.hosts.values_list("username", flat=True)) == ["demo-dj"]
    assert sorted(show.slots.values_list("weekday", flat=True)) == [0, 1, 2, 3, 4]

    call_command("setupdemo")
    assert Track.objects.filter(station=station).count() == 3
    assert station.shows.get().slots.count() == 5
