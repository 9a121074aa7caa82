"""What an audio file holds, and whether the AutoDJ can play it.

A file is read twice, and neither pass holds its audio in memory:

1. ffprobe: the format, the tags and the length the file declares. A file
   that declares more than the limit is refused before it is decoded.
2. One ffmpeg decode of the first audio stream through the ``ebur128``
   filter, streamed to the null muxer: the integrated loudness (EBU R128),
   how much audio really decodes (``-progress``), and any decoding errors.

pydub is not used: ``AudioSegment.from_file`` decodes the whole file into
memory, about 635 MB for an hour of stereo, and ``mediainfo_json`` runs
ffprobe without a timeout or the whitelists of
``stations.streaming.ffmpeg_whitelists``, which both passes use: an upload
may be a playlist of URLs.

A file either pass cannot read gets one fixed refusal: ffmpeg's own errors
would tell the uploader what the server's network and disks hold. They
are logged instead.

No Django imports: the limits come in as arguments.
"""

from __future__ import annotations

import json
import logging
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from stations.streaming.audience import title_and_artist
from stations.streaming.ffmpeg_whitelists import library_file_input

logger = logging.getLogger(__name__)

# The loudness every track is brought to on air, as streaming services do
# (EBU R128's -23 LUFS suits broadcast with headroom, not music streams).
TARGET_LOUDNESS_LUFS = -16.0
# The gain is bounded so that a quiet, noisy recording is not boosted into
# hiss and a mismeasured track is not muted.
MIN_GAIN_DB = -20.0
MAX_GAIN_DB = 12.0
# Less audio than this decodes from a truncated or damaged file.
MIN_AUDIO_SECONDS = 1.0
# ebur128's absolute gate: it reports this for audio with nothing above it.
SILENCE_LUFS = -70.0
# ffprobe reads a few MB of a local file; this stops one stuck on a file
# that never ends or never answers.
PROBE_TIMEOUT_SECONDS = 30
# Decoding runs at hundreds of times real time; this only stops a stuck ffmpeg.
DECODE_TIMEOUT_SECONDS = 600
# The longest title or artist kept, in characters.
TAG_MAX_CHARS = 200
BYTES_PER_MB = 1024 * 1024

_ERROR_LINE = re.compile(r"\[(?:error|fatal|panic)\] (.*)")
_LOUDNESS_LINE = re.compile(r"^\s+I:\s+(-?(?:\d+(?:\.\d+)?|inf|nan)) LUFS")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class UnusableAudio(ValueError):
    """The file cannot be a track; the message says why, naming the file."""


class FileTooBig(UnusableAudio):
    """The file is over the size limit."""


@dataclass(frozen=True)
class AudioInfo:
    title: str
    artist: str
    duration_ms: int
    loudness_lufs: float


def gain_db(loudness_lufs: float) -> float:
    """The gain that brings a track measured at ``loudness_lufs`` to the target."""
    return min(MAX_GAIN_DB, max(MIN_GAIN_DB, TARGET_LOUDNESS_LUFS - loudness_lufs))


def check_size(size: int, *, name: str, max_bytes: int) -> None:
    """Refuse an empty file, or one over ``max_bytes``."""
    if size == 0:
        raise UnusableAudio(f"{name} is empty.")
    if size > max_bytes:
        raise FileTooBig(
            f"{name} is {size / BYTES_PER_MB:.0f} MB; "
            f"files may be at most {max_bytes / BYTES_PER_MB:.0f} MB."
        )


def analyse(
    path: Path,
    *,
    name: str,
    max_seconds: float,
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
) -> AudioInfo:
    """Read and measure the audio file at ``path``, or raise UnusableAudio.

    ``name`` is the file's name as its owner knows it, for the title and
    for messages. Takes as long as decoding the whole file.
    """
    probe = _probe(path, name=name, ffprobe=ffprobe)
    declared = _declared_seconds(probe)
    if declared is not None and declared > max_seconds:
        raise _too_long(name, declared, max_seconds)
    seconds, loudness = _decode(path, name=name, max_seconds=max_seconds, ffmpeg=ffmpeg)
    if seconds > max_seconds:
        raise _too_long(name, seconds, max_seconds)
    if seconds < MIN_AUDIO_SECONDS:
        raise UnusableAudio(
            f"{name} has less than {MIN_AUDIO_SECONDS:g} s of audio that "
            "decodes: it is truncated or damaged."
        )
    if loudness <= SILENCE_LUFS:
        raise UnusableAudio(f"{name} is silent.")
    tags = _tags(probe)
    title, artist = tags.get("title"), tags.get("artist", "")
    if not title:
        title, artist = names_from_filename(name)
    return AudioInfo(
        title=title,
        artist=artist,
        duration_ms=round(seconds * 1000),
        loudness_lufs=loudness,
    )


def names_from_filename(name: str) -> tuple[str, str]:
    """Title and artist of an untagged file, as the DJ console reads them.

    "The Testers - Evening Tune.wav" gives ("Evening Tune", "The Testers");
    "My_Song-final.mp3" gives ("My Song-final", "").
    """
    words = " ".join(Path(name).stem.replace("_", " ").split())
    title, artist = title_and_artist(words)
    return (title or "Untitled")[:TAG_MAX_CHARS], artist[:TAG_MAX_CHARS]


# --- ffprobe -----------------------------------------------------------------


def _probe(path: Path, *, name: str, ffprobe: str) -> dict[str, Any]:
    """The file's ``format`` and ``streams``, as ffprobe reports them in JSON."""
    command = [
        ffprobe, "-hide_banner", "-loglevel", "error",
        "-print_format", "json", "-show_format", "-show_streams",
        *library_file_input(str(path)),
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        logger.warning(
            "ffprobe gave up on %s (%s) after %s s", name, path, PROBE_TIMEOUT_SECONDS
        )
        raise _unplayable(name) from None
    probe = _json_object(result.stdout)
    streams = probe.get("streams") or []
    if not streams:
        logger.warning(
            "ffprobe cannot read %s (%s), exit status %s: %s",
            name,
            path,
            result.returncode,
            _first_line(result.stderr),
        )
        raise _unplayable(name)
    if not any(stream.get("codec_type") == "audio" for stream in streams):
        raise UnusableAudio(f"{name} has no audio.")
    return probe


def _json_object(output: bytes) -> dict[str, Any]:
    try:
        value = json.loads(output)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _first_line(output: bytes) -> str:
    lines = output.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "nothing on stderr"


def _unplayable(name: str) -> UnusableAudio:
    """The refusal of a file ffmpeg or ffprobe cannot read, never quoting them."""
    return UnusableAudio(f"{name} is not audio the station can play, or it is damaged.")


def _first_audio_stream(probe: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in probe["streams"] if s.get("codec_type") == "audio")


def _declared_seconds(probe: dict[str, Any]) -> float | None:
    for source in (probe.get("format", {}), _first_audio_stream(probe)):
        try:
            return float(source["duration"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _tags(probe: dict[str, Any]) -> dict[str, str]:
    """Title and artist, from the container's tags or the stream's (Ogg)."""
    tags: dict[str, str] = {}
    for source in (_first_audio_stream(probe), probe.get("format", {})):
        for key, value in (source.get("tags") or {}).items():
            if key.lower() in ("title", "artist") and _clean_tag(value):
                tags[key.lower()] = _clean_tag(value)
    return tags


def _clean_tag(value: Any) -> str:
    text = _CONTROL_CHARS.sub(" ", str(value))
    return " ".join(text.split())[:TAG_MAX_CHARS]


def _too_long(name: str, seconds: float, max_seconds: float) -> UnusableAudio:
    return UnusableAudio(
        f"{name} lasts {_clock(seconds)}; tracks may last at most "
        f"{_clock(max_seconds)}."
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}"


# --- ffmpeg decode -----------------------------------------------------------


def _decode(
    path: Path, *, name: str, max_seconds: float, ffmpeg: str
) -> tuple[float, float]:
    """Decode the whole first audio stream: its length in s and its LUFS."""
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats",
        # Tag each log line with its level, to tell errors from the summary.
        "-loglevel", "level+info",
        *library_file_input(str(path)), "-map", "0:a:0",
        # A file that declares no length still stops just past the limit.
        "-t", f"{max_seconds + 1:g}",
        "-af", "ebur128=framelog=verbose",
        "-f", "null", "-progress", "pipe:1", "-",
    ]  # fmt: skip
    # The log goes to a file, not memory: a damaged file can log an error
    # for every frame.
    with tempfile.TemporaryFile() as log:
        try:
            result = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=log,
                timeout=DECODE_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UnusableAudio(f"{name} took too long to decode.") from None
        log.seek(0)
        error, loudness = _read_log(log)
    if error is not None or result.returncode != 0 or loudness is None:
        logger.warning(
            "ffmpeg cannot decode %s (%s), exit status %s: %s",
            name,
            path,
            result.returncode,
            error or "no loudness measured",
        )
        raise _unplayable(name)
    return _decoded_seconds(result.stdout), loudness


def _read_log(log: IO[bytes]) -> tuple[str | None, float | None]:
    """The first error ffmpeg logged, and the integrated loudness it measured."""
    error = loudness = None
    for raw in log:
        line = raw.decode("utf-8", "replace").rstrip()
        if error is None and (match := _ERROR_LINE.search(line)):
            error = match.group(1)
        elif match := _LOUDNESS_LINE.match(line):
            value = float(match.group(1))
            loudness = value if math.isfinite(value) else SILENCE_LUFS
    return error, loudness


def _decoded_seconds(progress: bytes) -> float:
    """The output time of the last ``-progress`` report."""
    micros = 0
    for line in progress.decode("ascii", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.isdigit():
            micros = int(value)
    return micros / 1_000_000
