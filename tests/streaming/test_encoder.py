"""The station's encoder: any input ffmpeg reads, out as ~100 ms MP3 packets."""

from __future__ import annotations

import pytest

from stations.streaming.encoder import PACKET_MS, start_encoder
from stations.streaming.mp3 import FrameSplitter
from tests.support.audio import make_tone

SECONDS = 2


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    return make_tone(path, seconds=SECONDS, codec="pcm_s16le").read_bytes()


async def encode(wav: bytes) -> list[tuple[bytes, float, int]]:
    """What the encoder emits for ``wav`` fed in pieces, flushed at the end."""
    emitted: list[tuple[bytes, float, int]] = []

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        emitted.append((frames, duration_ms, ingest_ms))

    encoder = await start_encoder(emit, "wav", bitrate_kbps=128, ffmpeg="ffmpeg")
    for offset in range(0, len(wav), 16384):
        await encoder.feed(wav[offset : offset + 16384])
    await encoder.aclose()
    return emitted


async def test_input_comes_out_as_packets_of_whole_frames(wav):
    """A WAV fed in pieces comes out as packets of at least PACKET_MS of whole
    MP3 frames (the last may be shorter), stamped in order."""
    emitted = await encode(wav)
    assert all(duration >= PACKET_MS for _, duration, _ in emitted[:-1])
    for frames, duration, _ in emitted:
        batch = FrameSplitter().feed(frames)
        assert batch.payload == frames
        assert batch.duration_ms == pytest.approx(duration)
    stamps = [ingest_ms for _, _, ingest_ms in emitted]
    assert stamps == sorted(stamps)


async def test_nothing_of_the_input_is_lost(wav):
    emitted = await encode(wav)
    total_ms = sum(duration for _, duration, _ in emitted)
    assert total_ms >= SECONDS * 1000


async def test_closing_without_flush_drops_what_is_left(wav):
    emitted = []

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        emitted.append(duration_ms)

    encoder = await start_encoder(emit, "wav", bitrate_kbps=128, ffmpeg="ffmpeg")
    await encoder.feed(wav[:8192])
    await encoder.aclose(flush=False)
    assert sum(emitted) < SECONDS * 1000 / 2
