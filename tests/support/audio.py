"""Real audio for tests and benchmarks, made and checked with ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stations.streaming.mp3 import parse_header

SAMPLE_RATE = 44100
CHANNELS = 2


def make_tone(
    path: Path,
    *,
    seconds: float,
    frequency: int = 440,
    codec: str = "libmp3lame",
    bitrate: str = "128k",
    sample_rate: int = SAMPLE_RATE,
    container: str | None = None,
) -> Path:
    """Write a sine tone with ffmpeg and return its path."""
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}",
        "-ac", "2", "-ar", str(sample_rate), "-c:a", codec, "-b:a", bitrate,
    ]  # fmt: skip
    if container:
        command += ["-f", container]
    subprocess.run([*command, str(path)], check=True)
    return path


def decoded_seconds(mp3: bytes) -> float:
    """How long ``mp3`` lasts once decoded; fails on any decoding error."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "mp3", "-i", "pipe:0",
         "-f", "s16le", "-ac", str(CHANNELS), "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=mp3, capture_output=True, check=True,
    )  # fmt: skip
    assert result.stderr == b"", result.stderr.decode(errors="replace")
    return len(result.stdout) / (2 * CHANNELS * SAMPLE_RATE)


def frames_duration_ms(data: bytes) -> float:
    """Duration of ``data``, which must be whole MP3 frames and nothing else."""
    offset = 0
    duration = 0.0
    while offset < len(data):
        header = parse_header(data, offset)
        assert header is not None, f"no MP3 frame header at byte {offset}"
        offset += header.length
        duration += header.duration_ms
    assert offset == len(data), "the data ends inside a frame"
    return duration
