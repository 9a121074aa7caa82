"""Real music files made with ffmpeg, a station's DJ, a clean MEDIA_ROOT.

Also playlists that would make ffmpeg fetch URLs from a local server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from stations.library.models import Track
from stations.models import Station
from tests.support.audio import make_tone
from tests.support.playlists import RequestRecorder, make_playlists
from tests.support.processes import child_processes

SECONDS = 4
TAGS = {"title": "Song Title", "artist": "The Band"}


def make_music(path: Path, **options) -> Path:
    """A tone as a music file holds it: 48 kHz, which Opus needs."""
    return make_tone(path, sample_rate=48_000, **options)


@pytest.fixture(scope="session")
def music(tmp_path_factory) -> dict[str, Path]:
    """A file of each common format, SECONDS long; only the MP3 is tagged."""
    folder = tmp_path_factory.mktemp("music")
    codecs = {
        "tagged.mp3": "libmp3lame",
        "My_Song-final.wav": "pcm_s16le",
        "song.ogg": "libvorbis",
        "song.opus": "libopus",
        "song.flac": "flac",
        "song.m4a": "aac",
    }
    return {
        name.rpartition(".")[2]: make_music(
            folder / name,
            seconds=SECONDS,
            codec=codec,
            tags=TAGS if name == "tagged.mp3" else None,
        )
        for name, codec in codecs.items()
    }


@pytest.fixture(scope="session")
def quiet_mp3(tmp_path_factory) -> Path:
    """The same tone as ``music["mp3"]``, 12 dB quieter."""
    path = tmp_path_factory.mktemp("music") / "quiet.mp3"
    return make_music(path, seconds=SECONDS, volume=0.25)


@pytest.fixture(scope="session")
def big_wav(tmp_path_factory) -> Path:
    """Eight seconds of WAV: over 1 MB."""
    path = tmp_path_factory.mktemp("music") / "big.wav"
    return make_music(path, seconds=8, codec="pcm_s16le")


@pytest.fixture(scope="session")
def unusable(tmp_path_factory, music) -> dict[str, Path]:
    """Files that must be refused, named like audio."""
    folder = tmp_path_factory.mktemp("unusable")
    text = folder / "letter.mp3"
    text.write_text("Dear DJ, this is not a song.\n" * 20)
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    truncated = folder / "truncated.mp3"
    truncated.write_bytes(music["mp3"].read_bytes()[:600])
    return {"text": text, "empty": empty, "truncated": truncated}


@pytest.fixture
def http_server():
    """A local HTTP server that records every connection made to it."""
    with RequestRecorder() as server:
        yield server


@pytest.fixture
def playlists(tmp_path, music, http_server) -> dict[str, Path]:
    """Playlists of a real music file and of ``http_server``'s URLs."""
    return make_playlists(
        tmp_path / "playlists", audio=music["mp3"], url=http_server.url
    )


def unplayable(name: str) -> str:
    """The one refusal of a file that ffmpeg or ffprobe cannot read.

    It never quotes them: their errors tell what the server can reach.
    """
    return f"{name} is not audio the station can play, or it is damaged."


def assert_refused_quietly(message: str, name: str, server: RequestRecorder) -> None:
    """Refused with the fixed message; no request made, no ffmpeg left."""
    assert message == unplayable(name)
    assert str(server.port) not in message
    assert "Connection refused" not in message
    assert "whitelist" not in message
    assert server.connections == []
    assert child_processes("ffmpeg", "ffprobe") == []


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """MEDIA_ROOT and the upload spool in this test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "spool"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    return settings.MEDIA_ROOT


def files_under(path: Path) -> list[Path]:
    return [child for child in path.rglob("*") if child.is_file()]


def assert_nothing_left(settings) -> None:
    """No track in the database, no file in MEDIA_ROOT or the upload spool."""
    assert not Track.objects.exists()
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def upload_of(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def make_track(station: Station, title: str, position: int = 0) -> Track:
    """A track row without a real file, for the playout order."""
    return Track.objects.create(
        station=station,
        file=f"tracks/{station.pk}/{title}.mp3",
        title=title,
        duration_ms=180_000,
        loudness_lufs=-16.0,
        position=position,
    )


# ``station`` is the one of tests/stations/conftest.py. Its ``dj`` is a
# persona with a session cookie; the views here want the user.


@pytest.fixture
def dj_user(station):
    """A DJ of ``station``, as a user."""
    user = get_user_model().objects.create_user("dj", password=None)
    station.djs.add(user)
    return user


@pytest.fixture
def dj_client(client, dj_user):
    client.force_login(dj_user)
    return client
