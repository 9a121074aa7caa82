"""The station's MP3 encoder: one ffmpeg for a whole run, and its packets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from .mp3 import FrameSplitter, parse_header
from .packets import MIN_PACKET_MS, now_ms
from .transcoder import Transcoder, TranscoderError

logger = logging.getLogger(__name__)

# ffmpeg writes each 26 ms MP3 frame out as soon as it is encoded, all the
# frames of one chunk of input in a burst; a packet per frame would cost
# every listener four times the messages of a DJ's 100 ms chunks. So a
# packet is a burst: what is pending goes out once the output pauses this
# long (the frames of a burst come about 1 ms apart at most)...
OUTPUT_PAUSE_S = 0.005
# ...or this long while it is shorter than a packet should be, since a busy
# machine can pause ffmpeg in the middle of a burst...
SHORT_RUN_PAUSE_S = 0.06
# ...and a long run of output (what ffmpeg read while probing, a stall's
# backlog) goes out in packets of this much, as soon as twice that is there.
PACKET_MS = 100
# How long a closing encoder's last output may take to be emitted.
READER_FINISH_TIMEOUT_S = 1.0

# Called with whole frames, their length in ms and when they reached us.
Emit = Callable[[bytes, float, int], Awaitable[None]]


class Mp3Encoder:
    """Audio in any format ffmpeg reads, out as packets of whole MP3 frames.

    One long-lived ffmpeg for the whole run, never one per chunk: MP3
    encoders pad every file they start, so encoding chunks one by one would
    put a gap between them. A live DJ's ingest and the AutoDJ's playout
    both encode through it.

    ffmpeg's output cannot be matched to input chunks, so the ingest time of
    output audio is estimated as a live source's would be: when the first
    chunk arrived plus the audio's position in the broadcast. That counts
    the encoder's own delay, which is the honest thing to report. A producer
    that falls behind real time and starts its pace again says so
    (``restart_pace``), or all later audio would seem that late.
    """

    def __init__(self, emit: Emit, transcoder: Transcoder) -> None:
        self._emit = emit
        self._transcoder = transcoder
        self._splitter = FrameSplitter()
        # When the input's start would have arrived at real-time pace.
        self._origin_ms: int | None = None
        self._emitted_ms = 0.0
        # Whole frames read but not emitted yet, and how long they last.
        self._pending = bytearray()
        self._pending_ms = 0.0
        self._reader: asyncio.Task

    async def start(self) -> None:
        await self._transcoder.start()
        self._reader = asyncio.get_running_loop().create_task(self._read_output())

    async def feed(self, data: bytes) -> None:
        """Take the next bytes of input, waiting while ffmpeg is busy."""
        if self._origin_ms is None:
            self._origin_ms = now_ms()
        await self._transcoder.write(data)

    def restart_pace(self, position_ms: float) -> None:
        """The input from ``position_ms`` on comes at real-time pace from now."""
        self._origin_ms = now_ms() - int(position_ms)

    async def _read_output(self) -> None:
        try:
            while chunk := await self._next_output():
                batch = self._splitter.feed(chunk)
                self._pending += batch.payload
                self._pending_ms += batch.duration_ms
                while self._pending_ms >= 2 * PACKET_MS:
                    await self._emit_packet(PACKET_MS)
            await self._emit_packet()
        except TranscoderError as problem:
            # The DJ learns of it from their next write, which fails too.
            logger.warning("Encoding stopped: %s", problem)

    async def _next_output(self) -> bytes:
        """ffmpeg's next output, emitting what is pending if it pauses first."""
        if self._pending:
            # A read cut short by the timeout takes nothing from the pipe.
            short = self._pending_ms < MIN_PACKET_MS
            try:
                async with asyncio.timeout(
                    SHORT_RUN_PAUSE_S if short else OUTPUT_PAUSE_S
                ):
                    return await self._transcoder.read()
            except TimeoutError:
                await self._emit_packet()
        return await self._transcoder.read()

    async def _emit_packet(self, limit_ms: float = math.inf) -> None:
        """Emit the pending frames, or the first ``limit_ms`` of them."""
        size, duration_ms = 0, 0.0
        while size < len(self._pending) and duration_ms < limit_ms:
            header = parse_header(self._pending, size)
            size += header.length
            duration_ms += header.duration_ms
        if not size:
            return
        frames = bytes(self._pending[:size])
        del self._pending[:size]
        self._pending_ms -= duration_ms
        origin = self._origin_ms or now_ms()
        ingest_ms = min(now_ms(), origin + int(self._emitted_ms))
        self._emitted_ms += duration_ms
        await self._emit(frames, duration_ms, ingest_ms)

    async def aclose(self, *, flush: bool = True) -> None:
        """Stop, emitting what is left unless ``flush`` is False."""
        try:
            if flush:
                await self._transcoder.aclose()
                # The reader ends by itself at ffmpeg's end of output.
                await asyncio.wait([self._reader], timeout=READER_FINISH_TIMEOUT_S)
            else:
                self._reader.cancel()
                await self._transcoder.kill()
        finally:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def start_encoder(
    emit: Emit, demuxer: str, *, bitrate_kbps: int, ffmpeg: str
) -> Mp3Encoder:
    """A started encoder of live input that ffmpeg reads with ``demuxer``."""
    # A live source's listeners are waiting: no bit reservoir.
    transcoder = Transcoder(
        input_format=demuxer,
        bitrate_kbps=bitrate_kbps,
        reservoir=False,
        ffmpeg=ffmpeg,
    )
    encoder = Mp3Encoder(emit, transcoder)
    await encoder.start()
    return encoder
