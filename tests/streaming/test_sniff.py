"""Telling a live stream's format from its first bytes, whatever it claims."""

from __future__ import annotations

import random

import pytest

from stations.streaming.sniff import sniff_mime
from tests.support.audio import make_tone

OPUS = {"codec": "libopus", "bitrate": "96k", "sample_rate": 48000}
# Each format as ffmpeg writes it, and what its first bytes say it is.
FORMATS = {
    "tone.mp3": ({}, "audio/mpeg"),
    "tone-64k-mono.mp3": ({"bitrate": "64k", "channels": 1}, "audio/mpeg"),
    "tone.aac": ({"codec": "aac"}, "audio/aac"),
    "tone.ogg": ({"codec": "libvorbis"}, "audio/ogg"),
    "tone.opus": ({**OPUS, "container": "ogg"}, "audio/ogg"),
    "tone.webm": ({**OPUS, "container": "webm"}, "audio/webm"),
    "tone.mka": ({"codec": "flac", "container": "matroska"}, "audio/webm"),
    "tone.wav": ({"codec": "pcm_s16le"}, "audio/wav"),
}
HEAD_BYTES = 4096


@pytest.fixture(scope="module")
def heads(tmp_path_factory) -> dict[str, bytes]:
    """The first HEAD_BYTES of each format, made by ffmpeg."""
    folder = tmp_path_factory.mktemp("sniff")
    return {
        name: make_tone(folder / name, seconds=1, **options).read_bytes()[:HEAD_BYTES]
        for name, (options, _) in FORMATS.items()
    }


@pytest.mark.parametrize("name", FORMATS)
def test_real_audio_is_told_by_its_first_bytes(heads, name):
    """Ogg, WebM, MP3 (with or without ID3), ADTS AAC and WAV are recognised."""
    assert sniff_mime(heads[name]) == FORMATS[name][1]


def test_mp3_without_a_tag_is_told_by_two_frames(heads):
    """Raw MP3 frames, the ID3 tag cut off, count as MP3."""
    head = heads["tone.mp3"]
    first_frame = head.index(b"\xff\xfb")
    assert sniff_mime(head[first_frame:]) == "audio/mpeg"


def test_a_stream_joined_mid_frame_is_found_past_the_junk(heads):
    """A source that starts mid-frame is told by the frames after the junk."""
    aac = heads["tone.aac"]
    assert aac.startswith(b"\xff\xf1")
    assert sniff_mime(aac[100:]) == "audio/aac"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"Ogg",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"\xff\xfb\x90\x64" + bytes(100),  # one MP3 header and no next frame
        b"\xff\xf1\x50\x80" + bytes(100),  # ADTS sync in junk
        random.Random(7).randbytes(HEAD_BYTES).replace(b"\xff", b"\x00"),
    ],
)
def test_bytes_that_tell_nothing_give_none(head):
    """Too few bytes, other containers, lone sync words and noise tell nothing."""
    assert sniff_mime(head) is None


def test_the_first_frame_alone_waits_for_the_next_header(heads):
    """A frame whose successor has not arrived yet does not decide."""
    head = heads["tone.mp3"]
    first_frame = head.index(b"\xff\xfb")
    assert sniff_mime(head[first_frame : first_frame + 300]) is None
