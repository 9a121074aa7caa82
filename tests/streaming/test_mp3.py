import random
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stations.streaming.mp3 import (
    MAX_PENDING_BYTES,
    FrameHeader,
    FrameSplitter,
    parse_header,
)

# name -> (ffmpeg encoder options, expected (version, sample rate, channels))
FORMATS = {
    "stereo-44k-128k": (["-ar", "44100", "-ac", "2", "-b:a", "128k"], (1.0, 44100, 2)),
    "mono-44k-64k": (["-ar", "44100", "-ac", "1", "-b:a", "64k"], (1.0, 44100, 1)),
    "stereo-48k-192k": (["-ar", "48000", "-ac", "2", "-b:a", "192k"], (1.0, 48000, 2)),
    "stereo-44k-320k": (["-ar", "44100", "-ac", "2", "-b:a", "320k"], (1.0, 44100, 2)),
    "mpeg2-22k-64k": (["-ar", "22050", "-ac", "2", "-b:a", "64k"], (2.0, 22050, 2)),
    "mpeg25-11k-32k": (["-ar", "11025", "-ac", "1", "-b:a", "32k"], (2.5, 11025, 1)),
    "vbr-44k": (["-ar", "44100", "-ac", "2", "-q:a", "2"], (1.0, 44100, 2)),
}
SEED = 20240601

FFPROBE_DURATION = shlex.split(
    "ffprobe -v error -show_entries format=duration -of csv=p=0"
)


def encode_mp3(path: Path, options: list[str], seconds: float = 3) -> bytes:
    """Encode a sine tone with ffmpeg's defaults: an ID3v2 tag, then an Info frame."""
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-c:a", "libmp3lame", *options, str(path)]
    subprocess.run(command, check=True)
    return path.read_bytes()


def reference_frames(data: bytes) -> tuple[int, list[bytes]]:
    """Walk a file written by ffmpeg: return the offset of the first audio
    frame and the audio frames, without the leading ID3v2 tag and Info frame."""
    assert data[:3] == b"ID3"
    size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
    pos = 10 + size
    frames = []
    while pos < len(data):
        header = parse_header(data, pos)
        assert header is not None, f"no frame header at {pos}"
        frames.append(data[pos : pos + header.length])
        pos += header.length
    assert pos == len(data)
    assert b"Info" in frames[0] or b"Xing" in frames[0]
    return 10 + size + len(frames[0]), frames[1:]


def random_chunks(data: bytes, rng: random.Random) -> Iterator[bytes]:
    """Split data into chunks of 1 byte to 10 KB, small sizes as likely as big."""
    pos = 0
    while pos < len(data):
        size = int(10 ** rng.uniform(0, 4))
        yield data[pos : pos + size]
        pos += size


def split_all(splitter: FrameSplitter, chunks) -> tuple[bytes, int, float]:
    payload, frames, duration_ms = bytearray(), 0, 0.0
    for chunk in chunks:
        batch = splitter.feed(chunk)
        payload += batch.payload
        frames += batch.frames
        duration_ms += batch.duration_ms
        assert splitter.pending <= MAX_PENDING_BYTES
    return bytes(payload), frames, duration_ms


def ffprobe_duration_ms(path: Path) -> float:
    out = subprocess.run(
        [*FFPROBE_DURATION, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out) * 1000


@pytest.fixture(scope="module", params=FORMATS)
def mp3(request, tmp_path_factory):
    """(path, file bytes, expected stream key) for each format in FORMATS."""
    options, expected = FORMATS[request.param]
    path = tmp_path_factory.mktemp("mp3") / f"{request.param}.mp3"
    return path, encode_mp3(path, options), expected


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    path = tmp_path_factory.mktemp("mp3") / "stereo.mp3"
    return encode_mp3(path, FORMATS["stereo-44k-128k"][0])


def test_parse_header_mpeg1():
    """A 128 kbit/s 44.1 kHz joint-stereo header decodes to a 417-byte frame."""
    header = parse_header(b"\x00\xff\xfb\x90\x64", offset=1)
    assert header == FrameHeader(
        version=1.0,
        bitrate_kbps=128,
        sample_rate=44100,
        channels=2,
        padding=False,
        samples_per_frame=1152,
        length=417,
    )
    assert header.duration_ms == pytest.approx(26.122, abs=0.001)


def test_parse_header_padding_and_mono():
    """The padding bit adds one byte; channel mode 0b11 is mono."""
    header = parse_header(b"\xff\xfb\x92\xc4")
    assert (header.padding, header.channels, header.length) == (True, 1, 418)


@pytest.mark.parametrize(
    ("data", "version", "sample_rate", "length"),
    [(b"\xff\xf3\x80\x64", 2.0, 22050, 208), (b"\xff\xe3\x40\x64", 2.5, 11025, 208)],
)
def test_parse_header_mpeg2_and_25(data, version, sample_rate, length):
    """MPEG-2 and 2.5 frames hold 576 samples and use 72 * bitrate / rate."""
    header = parse_header(data)
    assert (header.version, header.sample_rate) == (version, sample_rate)
    assert (header.samples_per_frame, header.length) == (576, length)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfb\x90",  # too short
        b"\xfe\xfb\x90\x64",  # sync bits
        b"\xff\xdb\x90\x64",  # sync bits
        b"\xff\xeb\x90\x64",  # reserved version
        b"\xff\xfd\x90\x64",  # layer II
        b"\xff\xf9\x90\x64",  # reserved layer
        b"\xff\xfb\x00\x64",  # free format
        b"\xff\xfb\xf0\x64",  # reserved bitrate
        b"\xff\xfb\x9c\x64",  # reserved sample rate
    ],
)
def test_parse_header_rejects(data):
    """Anything but a valid, fixed-bitrate Layer III header gives None."""
    assert parse_header(data) is None


def test_splitter_reframes_random_chunks(mp3):
    """Any chunking yields exactly the file's audio frames, in order."""
    path, data, expected = mp3
    _, frames = reference_frames(data)
    first = parse_header(frames[0])
    assert (first.version, first.sample_rate, first.channels) == expected

    payload, count, duration_ms = split_all(
        FrameSplitter(), random_chunks(data, random.Random(SEED))
    )

    assert payload == b"".join(frames)
    assert count == len(frames)
    assert duration_ms == pytest.approx(
        ffprobe_duration_ms(path), abs=first.duration_ms
    )


def test_splitter_output_decodes_cleanly(mp3):
    """ffmpeg decodes the re-framed stream without a single error."""
    _, data, _ = mp3
    payload, _, _ = split_all(FrameSplitter(), random_chunks(data, random.Random(1)))
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "mp3", "-i", "-", "-f", "null", "-"],
        input=payload,
        capture_output=True,
    )
    assert result.returncode == 0
    assert result.stderr == b""


def test_splitter_emits_a_complete_frame_at_once(stereo):
    """Once in sync, a frame is emitted in the feed that completes it."""
    start, frames = reference_frames(stereo)
    splitter = FrameSplitter()
    # The Info frame needs the next header to confirm sync, then is dropped.
    assert splitter.feed(stereo[:start]).frames == 0
    assert splitter.feed(frames[0][:4]).frames == 0
    assert splitter.feed(frames[0][4:]).payload == frames[0]
    for frame in frames[1:]:
        assert splitter.feed(frame).payload == frame
    assert splitter.pending == 0


def test_splitter_skips_junk_between_frames(stereo):
    """Random junk between frames is dropped and sync comes back."""
    start, frames = reference_frames(stereo)
    rng = random.Random(SEED)
    stream = bytearray(stereo[:start])
    # Sync needs two frames in a row, so no junk before the last frame.
    for index, frame in enumerate(frames[:-1]):
        if index % 10 == 5:
            stream += rng.randbytes(rng.randint(1, 3000))
        stream += frame
    stream += frames[-1]

    payload, _, _ = split_all(FrameSplitter(), random_chunks(bytes(stream), rng))

    assert payload == b"".join(frames)


def test_splitter_skips_tags_and_info_frames_of_concatenated_files(stereo):
    """A second file's ID3v2 tag and Info frame mid-stream are dropped."""
    _, frames = reference_frames(stereo)
    payload, _, _ = split_all(
        FrameSplitter(), random_chunks(stereo + stereo, random.Random(SEED))
    )
    assert payload == b"".join(frames + frames)


def test_splitter_skips_a_large_id3_tag_with_footer(stereo):
    """An ID3v2.4 tag with a footer, bigger than any chunk, is skipped."""
    _, frames = reference_frames(stereo)
    size = 300_000
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    tag = b"ID3\x04\x00\x10" + syncsafe + b"\xff\xfb\x90\x64" * (size // 4)
    tag += b"3DI\x04\x00\x10" + syncsafe

    stream = tag + b"".join(frames)
    chunks = (stream[i : i + 4096] for i in range(0, len(stream), 4096))
    payload, _, _ = split_all(FrameSplitter(), chunks)

    assert payload == b"".join(frames)


def test_splitter_resyncs_when_starting_mid_frame(stereo):
    """A stream cut in the middle of a frame starts at the next whole frame."""
    start, frames = reference_frames(stereo)
    cut = start + sum(len(frame) for frame in frames[:7]) + 100

    payload, _, _ = split_all(
        FrameSplitter(), random_chunks(stereo[cut:], random.Random(SEED))
    )

    assert payload == b"".join(frames[8:])


def test_splitter_bounds_memory_on_garbage():
    """1 MB of random bytes yields no frame and never piles up."""
    garbage = random.Random(SEED).randbytes(1 << 20)
    splitter = FrameSplitter()

    payload, count, _ = split_all(splitter, random_chunks(garbage, random.Random(1)))

    assert (payload, count) == (b"", 0)
