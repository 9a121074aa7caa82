"""``manage.py addtrack SLUG FILE [FILE ...]``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from stations.library.models import Track
from tests.support.playlists import PLAYLIST_NAMES
from tests.support.processes import child_processes

from .conftest import TAGS, files_under, unplayable

pytestmark = pytest.mark.django_db(transaction=True)


def test_adds_several_files_in_order(station, music, media):
    out, err = StringIO(), StringIO()
    files = [str(music["mp3"]), str(music["wav"])]
    call_command("addtrack", station.slug, *files, stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().count("Added") == 2
    tracks = Track.objects.order_by("position")
    assert [t.title for t in tracks] == [TAGS["title"], "My Song-final"]
    assert len(files_under(media)) == 2


def test_refuses_bad_files_and_adds_the_good_ones(station, music, unusable, media):
    """Each bad file gets one line on stderr; the exit status is not zero."""
    missing = media / "missing.mp3"
    files = [music["ogg"], unusable["text"], music["opus"], missing]
    err = StringIO()
    with pytest.raises(CommandError, match="Refused 2 of 4 files") as refused:
        call_command(
            "addtrack", station.slug, *map(str, files), stdout=StringIO(), stderr=err
        )
    assert refused.value.returncode != 0
    assert err.getvalue().splitlines() == [
        f"Refused: {unplayable('letter.mp3')}",
        f"Refused {missing}: No such file or directory.",
    ]
    assert Track.objects.count() == 2
    assert len(files_under(media)) == 2


def test_refuses_playlists_without_opening_what_they_list(
    station, playlists, http_server, media
):
    files = [str(playlists[name]) for name in PLAYLIST_NAMES]
    err = StringIO()
    with pytest.raises(CommandError, match=f"Refused {len(files)} of {len(files)}"):
        call_command("addtrack", station.slug, *files, stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        f"Refused: {unplayable(name)}" for name in PLAYLIST_NAMES
    ]
    assert http_server.connections == []
    assert not Track.objects.exists()
    assert files_under(media) == []
    assert child_processes("ffmpeg", "ffprobe") == []


def test_unknown_station_is_an_error(transactional_db, music):
    with pytest.raises(CommandError, match="No station has the slug 'nope'"):
        call_command("addtrack", "nope", str(music["mp3"]), stdout=StringIO())
    assert not Track.objects.exists()
