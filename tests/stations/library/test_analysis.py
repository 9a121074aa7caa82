"""Reading and measuring audio files with ffprobe and ffmpeg."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time

import pytest

from stations.library import analysis
from stations.library.analysis import (
    MAX_GAIN_DB,
    MIN_GAIN_DB,
    TARGET_LOUDNESS_LUFS,
    FileTooBig,
    UnusableAudio,
    analyse,
    check_size,
    gain_db,
    names_from_filename,
)
from tests.support.playlists import PLAYLIST_NAMES
from tests.support.processes import child_processes

from .conftest import SECONDS, TAGS, assert_refused_quietly, make_music, unplayable

LIMIT = 10800


@pytest.mark.parametrize("kind", ["mp3", "wav", "ogg", "opus", "flac", "m4a"])
def test_common_formats_are_read_and_measured(music, kind):
    """Each format gives the real duration and a plausible loudness."""
    info = analyse(music[kind], name=music[kind].name, max_seconds=LIMIT)
    assert info.duration_ms == pytest.approx(SECONDS * 1000, rel=0.03)
    # A sine at ffmpeg's default amplitude (1/8) measures about -22 LUFS.
    assert -25 < info.loudness_lufs < -19


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("song.aiff", "pcm_s16be"),
        ("song.aac", "aac"),
        ("song.mka", "flac"),
        ("song.webm", "libopus"),
        ("song.caf", "alac"),
        ("song.wv", "wavpack"),
    ],
)
def test_other_audio_containers_are_read(tmp_path, name, codec):
    """Each container the demuxer whitelist names gives the real duration."""
    path = make_music(tmp_path / name, seconds=SECONDS, codec=codec)
    info = analyse(path, name=name, max_seconds=LIMIT)
    assert info.duration_ms == pytest.approx(SECONDS * 1000, rel=0.03)


def test_tags_give_title_and_artist(music):
    """Title and artist come from the file's ID3 tags."""
    info = analyse(music["mp3"], name="anything.mp3", max_seconds=LIMIT)
    assert (info.title, info.artist) == (TAGS["title"], TAGS["artist"])


@pytest.mark.parametrize("kind", ["wav", "ogg", "opus", "flac", "m4a"])
def test_untagged_files_are_titled_from_their_name(music, kind):
    """Without tags, the title comes from the file name and the artist is blank."""
    info = analyse(music[kind], name="My_Song-final.wav", max_seconds=LIMIT)
    assert (info.title, info.artist) == ("My Song-final", "")


def test_louder_audio_measures_louder(music, quiet_mp3):
    """A tone at a quarter of the amplitude measures about 12 LU lower."""
    loud = analyse(music["mp3"], name="loud.mp3", max_seconds=LIMIT)
    quiet = analyse(quiet_mp3, name="quiet.mp3", max_seconds=LIMIT)
    assert loud.loudness_lufs - quiet.loudness_lufs == pytest.approx(12, abs=1)


@pytest.mark.parametrize("kind", ["text", "empty", "truncated"])
def test_files_that_are_not_audio_are_refused(unusable, kind):
    """Text, nothing, or a few hundred bytes of an MP3: refused, named."""
    with pytest.raises(UnusableAudio, match=unusable[kind].name):
        analyse(unusable[kind], name=unusable[kind].name, max_seconds=LIMIT)


def test_damaged_audio_is_refused(music, tmp_path):
    """Garbage in the middle of an MP3 makes ffmpeg report decoding errors."""
    data = bytearray(music["mp3"].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 5000] = bytes(range(256)) * 19 + bytes(136)
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(data)
    with pytest.raises(UnusableAudio) as refused:
        analyse(damaged, name="damaged.mp3", max_seconds=LIMIT)
    assert str(refused.value) == unplayable("damaged.mp3")


@pytest.mark.parametrize("name", PLAYLIST_NAMES)
def test_playlists_are_refused_without_opening_what_they_list(
    playlists, http_server, name
):
    """A playlist, even of a real audio file, is not a track."""
    with pytest.raises(UnusableAudio) as refused:
        analyse(playlists[name], name=name, max_seconds=LIMIT)
    assert_refused_quietly(str(refused.value), name, http_server)


def test_what_ffmpeg_said_is_logged_not_shown(playlists, caplog):
    """The uploader gets the fixed refusal; the server's log gets the reason."""
    with pytest.raises(UnusableAudio) as refused:
        analyse(playlists["disguised.mp3"], name="song.mp3", max_seconds=LIMIT)
    assert str(refused.value) == unplayable("song.mp3")
    assert "song.mp3" in caplog.text
    assert "Format not on whitelist" in caplog.text


@pytest.fixture
def fifo(tmp_path):
    """A FIFO nobody writes to: ffprobe blocks opening it, as on a slow source.

    Any reader still blocked at the end is let go.
    """
    path = tmp_path / "stuck.mp3"
    os.mkfifo(path)
    yield path
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_a_fifo_blocks_ffprobe(fifo):
    """What the next test relies on: without a timeout ffprobe never returns."""
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(["ffprobe", "-v", "error", str(fifo)], timeout=1)
    assert child_processes("ffprobe") == []


def test_a_stuck_probe_is_killed_with_the_fixed_refusal(fifo, monkeypatch):
    """Past PROBE_TIMEOUT_SECONDS ffprobe is killed and reaped; the file refused."""
    monkeypatch.setattr(analysis, "PROBE_TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(UnusableAudio) as refused:
        analyse(fifo, name="stuck.mp3", max_seconds=LIMIT)
    assert time.monotonic() - started < 5
    assert str(refused.value) == unplayable("stuck.mp3")
    assert child_processes("ffmpeg", "ffprobe") == []


def test_silence_is_refused(tmp_path):
    """A file with nothing to hear would be dead air."""
    silent = make_music(tmp_path / "silent.flac", seconds=2, codec="flac", volume=0)
    with pytest.raises(UnusableAudio, match=r"silent\.flac is silent"):
        analyse(silent, name="silent.flac", max_seconds=LIMIT)


def test_too_long_is_refused(music):
    """A file longer than the limit is refused, with both lengths."""
    with pytest.raises(UnusableAudio, match=r"lasts 0:00:04; .* at most 0:00:02"):
        analyse(music["flac"], name="long.flac", max_seconds=2)


def test_size_limits():
    """Empty files and files over the limit are refused; others pass."""
    with pytest.raises(UnusableAudio, match=r"a\.mp3 is empty"):
        check_size(0, name="a.mp3", max_bytes=1024)
    with pytest.raises(FileTooBig, match="at most 1 MB"):
        check_size(2 * 1024 * 1024, name="a.mp3", max_bytes=1024 * 1024)
    check_size(1024, name="a.mp3", max_bytes=1024)


def test_gain_brings_tracks_to_the_target_within_bounds():
    """The gain is the distance to the target, clamped to the bounds."""
    assert gain_db(-22.0) == pytest.approx(TARGET_LOUDNESS_LUFS + 22.0)
    assert gain_db(TARGET_LOUDNESS_LUFS) == 0
    assert gain_db(-60.0) == MAX_GAIN_DB
    assert gain_db(10.0) == MIN_GAIN_DB


@pytest.mark.parametrize(
    ("name", "title", "artist"),
    [
        ("My_Song-final.mp3", "My Song-final", ""),
        ("  spaced __ out .flac", "spaced out", ""),
        ("no-extension", "no-extension", ""),
        ("___.mp3", "Untitled", ""),
        ("The Testers - Evening Tune.wav", "Evening Tune", "The Testers"),
        ("The_Testers_-_Evening_Tune.ogg", "Evening Tune", "The Testers"),
        ("- Lonely dash.mp3", "- Lonely dash", ""),
    ],
)
def test_names_from_filename(name, title, artist):
    assert names_from_filename(name) == (title, artist)
