"""What ffmpeg may open: only audio demuxers, only files or our pipes."""

from __future__ import annotations

import subprocess

import pytest

from stations.streaming.ffmpeg_whitelists import (
    AUDIO_DEMUXERS,
    FILE_PROTOCOLS,
    PIPE_PROTOCOLS,
    library_file_input,
    pipe_input,
    pipe_output,
)
from stations.streaming.transcoder import INPUT_FORMATS

# Demuxers that open the files or URLs a file lists.
OPENING_DEMUXERS = {"hls", "applehttp", "dash", "concat", "image2", "ffconcat"}

INPUTS = {
    "library_file": library_file_input("/music/song.mp3"),
    "pipe_guessed": pipe_input(None),
    "pipe_named": pipe_input("s16le", "-ar", "44100", "-ac", "2"),
}


def test_no_demuxer_that_opens_other_files_is_allowed():
    """hls, dash, concat and image2 are never on the demuxer whitelist."""
    assert OPENING_DEMUXERS.isdisjoint(AUDIO_DEMUXERS)
    for args in INPUTS.values():
        if "-format_whitelist" in args:
            allowed = args[args.index("-format_whitelist") + 1].split(",")
            assert OPENING_DEMUXERS.isdisjoint(allowed)


@pytest.mark.parametrize("name", INPUTS)
def test_every_input_puts_its_whitelists_before_its_i(name):
    """Input options count only before their -i: the whitelists come first."""
    args = INPUTS[name]
    assert args.count("-i") == 1
    i = args.index("-i")
    assert "-protocol_whitelist" in args[:i]
    assert "-format_whitelist" in args[:i] or "-f" in args[:i]
    assert i == len(args) - 2


def test_a_library_file_may_use_the_file_protocol_only():
    """A library file is opened as a file, under its own path."""
    args = library_file_input("/music/song.mp3")
    assert args[args.index("-protocol_whitelist") + 1] == FILE_PROTOCOLS == "file"
    assert args[-2:] == ["-i", "/music/song.mp3"]


def test_a_named_pipe_input_is_read_as_that_demuxer_with_its_options():
    """pipe_input("s16le", ...) forces the demuxer and keeps the options before -i."""
    args = pipe_input("s16le", "-ar", "44100")
    assert args == [
        "-protocol_whitelist", PIPE_PROTOCOLS, "-f", "s16le", "-ar", "44100",
        "-i", "pipe:0",
    ]  # fmt: skip


def test_a_guessed_pipe_input_guesses_among_audio_demuxers_only():
    """Without a demuxer the input names the audio whitelist instead of -f."""
    args = pipe_input(None)
    assert "-f" not in args
    assert args[args.index("-format_whitelist") + 1] == ",".join(AUDIO_DEMUXERS)


def test_the_output_is_our_pipe_only():
    """The output is pipe:1, last, with only the pipe protocol."""
    assert pipe_output() == ["-protocol_whitelist", PIPE_PROTOCOLS, "pipe:1"]
    assert PIPE_PROTOCOLS == "pipe"


def ffmpeg_demuxers() -> list[set[str]]:
    """Each demuxer ffmpeg knows, as the set of its names."""
    listing = subprocess.run(
        ["ffmpeg", "-hide_banner", "-demuxers"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    demuxers = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in {"D", "DE"}:
            demuxers.append(set(parts[1].split(",")))
    return demuxers


def test_every_allowed_demuxer_is_one_ffmpeg_knows():
    """A misspelt name would quietly allow nothing: each is in ffmpeg -demuxers."""
    known = set().union(*ffmpeg_demuxers())
    assert set(AUDIO_DEMUXERS) <= known


@pytest.mark.parametrize("demuxer", sorted(set(INPUT_FORMATS.values())))
def test_live_input_is_read_by_an_allowed_audio_demuxer(demuxer):
    """Each demuxer a live format names is on the audio whitelist, by some name."""
    names = next(names for names in ffmpeg_demuxers() if demuxer in names)
    assert names & set(AUDIO_DEMUXERS)
