"""Real audio for tests and benchmarks, made and checked with ffmpeg."""

from __future__ import annotations

import itertools
import math
import subprocess
from array import array
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
    channels: int = CHANNELS,
    container: str | None = None,
    volume: float = 1.0,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write a sine tone with ffmpeg and return its path.

    The container follows ``path``'s extension unless ``container`` is
    given. At ``volume`` 1.0 the tone's loudness is about -22 LUFS.
    """
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}",
        "-af", f"volume={volume}", "-ac", str(channels), "-ar", str(sample_rate),
        "-c:a", codec, "-b:a", bitrate,
    ]  # fmt: skip
    for key, value in (tags or {}).items():
        command += ["-metadata", f"{key}={value}"]
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


def decoded_mono(mp3: bytes) -> array:
    """``mp3`` decoded to 16-bit mono samples at SAMPLE_RATE."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "mp3", "-i", "pipe:0",
         "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"],
        input=mp3, capture_output=True, check=True,
    )  # fmt: skip
    return array("h", result.stdout)


def frequencies(samples: array, *, window_ms: int = 100) -> list[float]:
    """The frequency of a pure tone in each window, from its zero crossings."""
    size = SAMPLE_RATE * window_ms // 1000
    found = []
    for start in range(0, len(samples) - size + 1, size):
        window = samples[start : start + size]
        crossings = sum(1 for a, b in itertools.pairwise(window) if (a < 0) != (b < 0))
        found.append(crossings / 2 / (window_ms / 1000))
    return found


def tone_order(samples: array, tones: list[int], *, window_ms: int = 100) -> list[int]:
    """Which of ``tones`` play one after another (windows near none skipped)."""
    order: list[int] = []
    for frequency in frequencies(samples, window_ms=window_ms):
        nearest = min(tones, key=lambda tone: abs(tone - frequency))
        if abs(nearest - frequency) <= nearest * 0.03 and order[-1:] != [nearest]:
            order.append(nearest)
    return order


def tone_levels(
    samples: array | list[float],
    tones: list[int],
    *,
    window_ms: int = 50,
    sample_rate: int = SAMPLE_RATE,
    full_scale: float = 32768,
) -> list[dict[int, float]]:
    """Each window's amplitude of each of ``tones`` (1.0 = full scale).

    Goertzel's algorithm, one DFT bin per tone: unlike :func:`frequencies`,
    it measures tones that play at once, as in a crossfade. Samples are
    16-bit, or floats with ``full_scale`` 1.0 (Web Audio's).
    """
    size = sample_rate * window_ms // 1000
    coefficients = {
        tone: 2 * math.cos(2 * math.pi * tone / sample_rate) for tone in tones
    }
    levels = []
    for start in range(0, len(samples) - size + 1, size):
        window = samples[start : start + size]
        found = {}
        for tone, coefficient in coefficients.items():
            current = previous = 0.0
            for sample in window:
                current, previous = sample + coefficient * current - previous, current
            power = current**2 + previous**2 - coefficient * current * previous
            found[tone] = 2 * math.sqrt(max(power, 0.0)) / size / full_scale
        levels.append(found)
    return levels


def longest_silence_ms(samples: array, *, threshold: int = 8) -> float:
    """The longest stretch of (near) digital silence in ``samples``."""
    longest = run = 0
    for sample in samples:
        run = run + 1 if -threshold <= sample <= threshold else 0
        longest = max(longest, run)
    return longest * 1000 / SAMPLE_RATE
