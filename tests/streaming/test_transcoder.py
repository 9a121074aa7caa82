import asyncio
import itertools
import os
import random
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from stations.streaming.mp3 import parse_header
from stations.streaming.transcoder import (
    INPUT_FORMATS,
    Transcoder,
    TranscoderError,
    normalise_mime,
)

INPUT_SECONDS = 4
CHUNK_SECONDS = 0.25  # a typical MediaRecorder timeslice
TEST_TIMEOUT_SECS = 30

FFPROBE_DURATION = shlex.split(
    "ffprobe -v error -show_entries format=duration -of csv=p=0"
)


def ffmpeg_output(*args: str) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-v", "error", *args, "pipe:1"], check=True, capture_output=True
    ).stdout


def split(data: bytes, parts: int) -> list[bytes]:
    """Cut data into ``parts`` chunks of about the same size."""
    bounds = [len(data) * index // parts for index in range(parts + 1)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def decoded_seconds(mp3: bytes, tmp_path: Path) -> float:
    """Decode the MP3 fully, check ffmpeg reports no error, return its length."""
    path = tmp_path / "out.mp3"
    path.write_bytes(mp3)
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
    )
    assert (result.returncode, result.stderr) == (0, b"")
    probe = subprocess.run(
        [*FFPROBE_DURATION, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(probe.stdout)


async def read_all(transcoder: Transcoder) -> bytes:
    output = bytearray()
    while chunk := await transcoder.read():
        output += chunk
    return bytes(output)


@pytest.fixture(scope="module")
def webm() -> bytes:
    """Opus in WebM written to a pipe, so unseekable like MediaRecorder's."""
    return ffmpeg_output(
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={INPUT_SECONDS}",
        "-c:a", "libopus", "-b:a", "64k", "-f", "webm",
    )  # fmt: skip


@pytest.fixture(scope="module")
def wav() -> bytes:
    """30 s of PCM: far more MP3 than the pipes hold."""
    return ffmpeg_output(
        "-f", "lavfi", "-i", "sine=frequency=440:duration=30",
        "-ac", "2", "-ar", "44100", "-f", "wav",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mime", "demuxer"),
    [
        ("audio/webm;codecs=opus", "webm"),
        ("Audio/WebM; codecs=opus", "webm"),
        ("audio/ogg ; codecs=opus", "ogg"),
        ("audio/mpeg", "mp3"),
        ("audio/wav", "wav"),
        ("audio/aac", "aac"),
        ("audio/aacp", "aac"),
        ("Audio/X-AAC", "aac"),
    ],
)
def test_normalised_mime_types_map_to_demuxers(mime, demuxer):
    """Case and spaces around ';' do not matter."""
    assert INPUT_FORMATS[normalise_mime(mime)] == demuxer


async def test_transcodes_webm_opus_chunks_to_mp3(webm, tmp_path):
    """MediaRecorder-sized chunks come out as MP3 of the same duration."""
    before = open_fds()
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        async with Transcoder(input_format="webm", bitrate_kbps=128) as transcoder:
            reader = asyncio.create_task(read_all(transcoder))
            for chunk in split(webm, int(INPUT_SECONDS / CHUNK_SECONDS)):
                await transcoder.write(chunk)
        output = await reader

    assert transcoder.returncode == 0
    assert open_fds() == before
    assert output[:3] != b"ID3"
    assert parse_header(output) is not None
    assert decoded_seconds(output, tmp_path) == pytest.approx(INPUT_SECONDS, rel=0.05)


async def test_output_unread_at_aclose_can_still_be_read(webm, tmp_path):
    """aclose() lets ffmpeg flush, and keeps the output for read()."""
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        async with Transcoder(input_format="webm", bitrate_kbps=128) as transcoder:
            await transcoder.write(webm)
        output = await read_all(transcoder)

    assert decoded_seconds(output, tmp_path) == pytest.approx(INPUT_SECONDS, rel=0.05)


async def test_first_mp3_bytes_come_before_the_input_ends(webm):
    """One second of input is enough for ffmpeg to start writing MP3."""
    cut = len(webm) // INPUT_SECONDS
    first_second, rest = webm[:cut], webm[cut:]
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        async with Transcoder(input_format="webm", bitrate_kbps=128) as transcoder:
            await transcoder.write(first_second)
            async with asyncio.timeout(2):
                first = await transcoder.read()
            assert parse_header(first) is not None
            await transcoder.write(rest)
            reader = asyncio.create_task(read_all(transcoder))
        await reader


@pytest.mark.parametrize(
    ("demuxer", "encoding"),
    [
        ("mp3", ["-c:a", "libmp3lame", "-b:a", "320k", "-f", "mp3"]),
        ("aac", ["-c:a", "aac", "-b:a", "256k", "-f", "adts"]),
    ],
)
async def test_first_mp3_bytes_come_before_ffmpeg_has_probed_32_kib(demuxer, encoding):
    """A third of a second of input (well under -probesize) is enough for
    ffmpeg to start writing MP3: it does not wait to analyse more."""
    source = ffmpeg_output(
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={INPUT_SECONDS}",
        *encoding,
    )  # fmt: skip
    head = source[: len(source) // INPUT_SECONDS // 3]
    assert len(head) < 16 * 1024
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        transcoder = Transcoder(input_format=demuxer, bitrate_kbps=128)
        await transcoder.start()
        try:
            await transcoder.write(head)
            async with asyncio.timeout(2):
                first = await transcoder.read()
            assert parse_header(first) is not None
        finally:
            await transcoder.kill()


async def test_aclose_reaps_ffmpeg():
    """After aclose() the process is gone and its pipes are closed."""
    before = open_fds()
    transcoder = Transcoder(input_format="webm", bitrate_kbps=128)
    await transcoder.start()
    pid = transcoder.pid
    os.kill(pid, 0)  # running

    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        await transcoder.aclose(timeout_s=5)

    assert transcoder.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert open_fds() == before
    assert await transcoder.read() == b""


@pytest.mark.parametrize("input_format", ["webm", None])
async def test_garbage_input_surfaces_as_errors(input_format):
    """ffmpeg exits on garbage, and write() and read() both report why."""
    garbage = random.Random(3).randbytes(4096)
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        async with Transcoder(input_format=input_format, bitrate_kbps=128) as ffmpeg:
            with pytest.raises(TranscoderError, match="Invalid data"):
                while True:
                    await ffmpeg.write(garbage)
            with pytest.raises(TranscoderError, match=r"exit status 1\b"):
                await ffmpeg.read()
    assert ffmpeg.returncode == 1


async def stalled_transcoder(wav: bytes) -> Transcoder:
    """Return a transcoder whose ffmpeg blocks on output nobody reads."""
    transcoder = Transcoder(input_format="wav", bitrate_kbps=320)
    await transcoder.start()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(2):
            for chunk in split(wav, 300):
                await transcoder.write(chunk)
    return transcoder


async def test_aclose_kills_ffmpeg_stuck_on_unread_output(wav):
    """With nobody reading, ffmpeg blocks on output; aclose() kills and reaps it."""
    before = open_fds()
    transcoder = await stalled_transcoder(wav)

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(TEST_TIMEOUT_SECS):
        await transcoder.aclose(timeout_s=0.5)

    assert loop.time() - started < 2
    assert transcoder.returncode == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(transcoder.pid, 0)
    assert open_fds() == before


async def test_cancelled_aclose_still_kills_and_reaps(wav):
    """Cancelling aclose() leaves no process and no open pipe behind."""
    before = open_fds()
    transcoder = await stalled_transcoder(wav)
    closing = asyncio.create_task(transcoder.aclose(timeout_s=60))
    await asyncio.sleep(0.2)

    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(TEST_TIMEOUT_SECS):
            await closing

    assert transcoder.returncode == -signal.SIGKILL
    assert open_fds() == before


async def test_write_after_aclose_raises():
    """A closed transcoder refuses input instead of hanging."""
    async with Transcoder(input_format="webm", bitrate_kbps=128) as transcoder:
        pass
    with pytest.raises(TranscoderError, match="not running"):
        await transcoder.write(b"\x1a\x45\xdf\xa3")


async def test_missing_ffmpeg_says_how_to_fix_it():
    """A bad ffmpeg path fails at start() with a hint."""
    transcoder = Transcoder(
        input_format="webm", bitrate_kbps=128, ffmpeg="/nonexistent/ffmpeg"
    )
    with pytest.raises(TranscoderError, match="install ffmpeg"):
        await transcoder.start()
