"""The station's encoder: any input ffmpeg reads, out as ~100 ms MP3 packets."""

from __future__ import annotations

import asyncio

import pytest

from stations.streaming import encoder as encoder_module
from stations.streaming.encoder import PACKET_MS, Mp3Encoder, start_encoder
from stations.streaming.mp3 import FrameSplitter, parse_header
from stations.streaming.packets import MIN_PACKET_MS
from stations.streaming.transcoder import PCM_FORMAT
from tests.support.audio import make_tone

SECONDS = 2
CHUNK_BYTES = 44100 * 4 // 10  # 100 ms of 16-bit stereo
# Far longer than a chunk takes to encode; only a stuck encoder needs it.
CHUNK_TIMEOUT_S = 2


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


async def test_each_chunk_comes_out_without_waiting_for_the_next(tmp_path):
    """Fed 100 ms at a time, the encoder emits a packet for each chunk before
    the next one comes: nothing waits for a full PACKET_MS to be pending."""
    path = make_tone(
        tmp_path / "tone.pcm", seconds=SECONDS, codec="pcm_s16le", container=PCM_FORMAT
    )
    pcm = path.read_bytes()
    packets: asyncio.Queue[float] = asyncio.Queue()

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        packets.put_nowait(duration_ms)

    encoder = await start_encoder(emit, PCM_FORMAT, bitrate_kbps=128, ffmpeg="ffmpeg")
    chunks = [pcm[at : at + CHUNK_BYTES] for at in range(0, len(pcm), CHUNK_BYTES)]
    try:
        # The encoder looks ahead of the audio it encodes: the first chunk
        # cannot come out alone.
        await encoder.feed(chunks[0])
        for chunk in chunks[1:]:
            await encoder.feed(chunk)
            async with asyncio.timeout(CHUNK_TIMEOUT_S):
                await packets.get()
            while not packets.empty():
                packets.get_nowait()
    finally:
        await encoder.aclose(flush=False)


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


class StallingOutput:
    """ffmpeg's output as a busy machine gives it: the frames of one burst
    with a stall of ``stall_s`` after the first two."""

    def __init__(self, frames: list[bytes], stall_s: float) -> None:
        self._reads: asyncio.Queue[bytes] = asyncio.Queue()
        self._frames = frames
        self._stall_s = stall_s
        self.done = asyncio.Event()

    async def start(self) -> None:
        asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        head, tail = self._frames[:2], self._frames[2:]
        self._reads.put_nowait(b"".join(head))
        await asyncio.sleep(self._stall_s)
        self._reads.put_nowait(b"".join(tail))
        self.done.set()

    async def read(self) -> bytes:
        return await self._reads.get()

    async def aclose(self) -> None:
        self._reads.put_nowait(b"")

    async def kill(self) -> None:
        self._reads.put_nowait(b"")


async def test_a_burst_stalled_in_the_middle_goes_out_as_one_packet(tone_mp3):
    """Two frames and a 30 ms stall are not a packet of their own: a short
    run waits for the rest of its burst."""
    payload = FrameSplitter().feed(tone_mp3).payload
    frames, offset = [], 0
    for _ in range(5):
        length = parse_header(payload, offset).length
        frames.append(payload[offset : offset + length])
        offset += length
    packets: asyncio.Queue[float] = asyncio.Queue()

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        packets.put_nowait(duration_ms)

    output = StallingOutput(frames, stall_s=0.03)
    encoder = Mp3Encoder(emit, output)
    await encoder.start()
    await output.done.wait()
    async with asyncio.timeout(CHUNK_TIMEOUT_S):
        duration = await packets.get()
    await encoder.aclose(flush=False)
    assert 2 * 26 < MIN_PACKET_MS <= duration


async def test_a_pace_restarted_after_a_stall_stamps_later_audio_from_then(
    wav, monkeypatch
):
    """A producer that fell seconds behind and starts its pace again: the
    audio from then on is stamped as arriving then, not seconds earlier."""
    clock = [1_000_000]
    monkeypatch.setattr(encoder_module, "now_ms", lambda: clock[0])
    emitted: list[tuple[float, int]] = []

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        emitted.append((duration_ms, ingest_ms))

    encoder = await start_encoder(emit, "wav", bitrate_kbps=128, ffmpeg="ffmpeg")
    half = len(wav) // 2
    await encoder.feed(wav[:half])
    stalled_ms = 5_000
    clock[0] += stalled_ms
    encoder.restart_pace(SECONDS * 1000 / 2)
    await encoder.feed(wav[half:])
    await encoder.aclose()

    position_ms, late = 0.0, []
    for duration_ms, ingest_ms in emitted:
        if position_ms >= SECONDS * 1000 / 2 + PACKET_MS:
            late.append(clock[0] - ingest_ms)
        position_ms += duration_ms
    assert late
    assert max(late) < PACKET_MS
