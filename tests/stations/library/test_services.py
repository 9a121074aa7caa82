"""Adding tracks to a library, removing them, and the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from stations.library.analysis import FileTooBig, UnusableAudio
from stations.library.models import Track
from stations.library.selectors import station_ids_with_tracks, station_playlist
from stations.library.services import (
    LibraryMismatch,
    library_reorder,
    library_settings_update,
    track_add,
    track_delete,
)
from stations.models import Station

from .conftest import (
    TAGS,
    assert_nothing_left,
    files_under,
    make_track,
    upload_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_added_track_is_stored_under_media_root(station, music, media):
    """The file goes under tracks/<station pk>/, measured and tagged, under a
    name the server made."""
    track = track_add(station=station, upload=upload_of(music["mp3"]))
    assert (track.title, track.artist) == (TAGS["title"], TAGS["artist"])
    assert re.fullmatch(rf"tracks/{station.pk}/[0-9a-f]{{32}}\.mp3", track.file.name)
    assert Path(track.file.path).read_bytes() == music["mp3"].read_bytes()
    assert files_under(media) == [Path(track.file.path)]


def test_an_uploaded_name_decides_nothing_of_the_stored_one(station, music, media):
    """A path, a script's suffix or a double suffix in the upload's name is
    dropped: audio checked by its content is stored as a plain name."""
    upload = SimpleUploadedFile("../../evil.mp3.html", music["mp3"].read_bytes())
    track = track_add(station=station, upload=upload)

    assert re.fullmatch(rf"tracks/{station.pk}/[0-9a-f]{{32}}", track.file.name)
    assert files_under(media) == [Path(track.file.path)]


def test_spooled_upload_is_taken_from_disk(station, music, settings):
    """A large upload Django spooled to disk is moved, leaving no spool behind."""
    upload = TemporaryUploadedFile("big.wav", "audio/wav", 0, None)
    upload.write(music["wav"].read_bytes())
    upload.size = music["wav"].stat().st_size
    track = track_add(station=station, upload=upload)
    upload.close()
    assert track.title == "big"
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def test_tracks_are_added_at_the_end_of_the_playlist(station, music):
    first = track_add(station=station, upload=upload_of(music["ogg"]))
    second = track_add(station=station, upload=upload_of(music["flac"]))
    assert (first.position, second.position) == (0, 1)


@pytest.mark.parametrize("kind", ["text", "empty", "truncated"])
def test_unusable_files_leave_nothing_behind(station, unusable, kind, settings):
    with pytest.raises(UnusableAudio):
        track_add(station=station, upload=upload_of(unusable[kind]))
    assert_nothing_left(settings)


def test_too_long_leaves_nothing_behind(station, music, settings):
    settings.RADIO_MAX_TRACK_SECONDS = 2
    with pytest.raises(UnusableAudio, match="at most 0:00:02"):
        track_add(station=station, upload=upload_of(music["mp3"]))
    assert_nothing_left(settings)


def test_too_big_leaves_nothing_behind(station, big_wav, settings):
    """A file over the limit is refused before it is even copied to be read."""
    settings.RADIO_MAX_UPLOAD_MB = 1
    with pytest.raises(FileTooBig, match="at most 1 MB"):
        track_add(station=station, upload=upload_of(big_wav))
    assert_nothing_left(settings)


def test_a_failing_save_removes_the_stored_file(station, music, settings, monkeypatch):
    """A track that fails after its file was stored takes the file with it."""

    def refuse(self, *args, **kwargs):
        raise ValidationError("refused")

    monkeypatch.setattr(Track, "full_clean", refuse)
    with pytest.raises(ValidationError):
        track_add(station=station, upload=upload_of(music["mp3"]))
    assert_nothing_left(settings)


def test_deleting_a_track_removes_its_file(station, music, media):
    track = track_add(station=station, upload=upload_of(music["mp3"]))
    track_delete(track=track)
    assert not Track.objects.exists()
    assert files_under(media) == []


def test_deleting_a_station_removes_its_track_files(station, music, media):
    track_add(station=station, upload=upload_of(music["mp3"]))
    track_add(station=station, upload=upload_of(music["ogg"]))
    station.delete()
    assert not Track.objects.exists()
    assert files_under(media) == []


def test_reorder_sets_the_playlist_order(station):
    a, b, c = (make_track(station, title, n) for n, title in enumerate("abc"))
    library_reorder(station=station, track_ids=[c.pk, a.pk, b.pk])
    ordered = Track.objects.filter(station=station).order_by("position")
    assert [track.title for track in ordered] == ["c", "a", "b"]


@pytest.mark.parametrize("ids", ["missing", "duplicate", "foreign"])
def test_reorder_needs_each_track_once(station, ids):
    a, b = make_track(station, "a"), make_track(station, "b", 1)
    track_ids = {
        "missing": [a.pk],
        "duplicate": [a.pk, b.pk, a.pk],
        "foreign": [a.pk, b.pk + 100],
    }[ids]
    with pytest.raises(LibraryMismatch):
        library_reorder(station=station, track_ids=track_ids)
    assert [t.position for t in Track.objects.order_by("id")] == [0, 1]


def test_settings_are_validated(station):
    library_settings_update(station=station, shuffle=True, crossfade_ms=0)
    playlist = station_playlist(station)
    assert (playlist.shuffle, playlist.crossfade_ms) == (True, 0)
    with pytest.raises(ValidationError):
        library_settings_update(station=station, crossfade_ms=10_001)


def test_station_ids_with_tracks(station):
    empty = Station.objects.create(slug="empty-fm", name="Empty FM")
    assert station_ids_with_tracks() == []
    make_track(station, "a")
    make_track(station, "b")
    assert station_ids_with_tracks() == [station.pk]
    assert empty.pk not in station_ids_with_tracks()
