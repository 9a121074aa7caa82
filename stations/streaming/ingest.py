"""A live DJ's byte stream in, whole MP3 frames out.

``audio/mpeg`` is only re-framed on frame boundaries. Anything else goes
through one ffmpeg process for the whole connection, never one per chunk:
MP3 encoders pad every file they start, so encoding chunks one by one would
put a gap between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .mp3 import FrameBatch, FrameSplitter
from .packets import now_ms
from .transcoder import INPUT_FORMATS, Transcoder, TranscoderError, normalise_mime

logger = logging.getLogger(__name__)

MP3_MIME = "audio/mpeg"

# Called with whole frames, their length in ms and when they reached us.
Emit = Callable[[bytes, float, int], Awaitable[None]]


class UnsupportedFormat(ValueError):
    """The DJ announced a format the server cannot take."""


def supported_formats() -> list[str]:
    return sorted({MP3_MIME, *INPUT_FORMATS})


class Ingest:
    """Takes the DJ's chunks in order and emits whole MP3 frames."""

    async def feed(self, data: bytes) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop, emitting what is left; frees every resource it holds."""


class Mp3Passthrough(Ingest):
    """MP3 from the DJ, cut on frame boundaries and passed on as it is."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._splitter = FrameSplitter()

    async def feed(self, data: bytes) -> None:
        batch = self._splitter.feed(data)
        if batch.frames:
            await self._emit(batch.payload, batch.duration_ms, now_ms())


class Transcoding(Ingest):
    """Any other format, encoded to MP3 by one long-lived ffmpeg.

    ffmpeg's output cannot be matched to input chunks, so the ingest time of
    output audio is estimated as a live source's would be: when the first
    chunk arrived plus the audio's position in the broadcast. That counts
    the encoder's own delay, which is the honest thing to report.
    """

    def __init__(self, emit: Emit, transcoder: Transcoder) -> None:
        self._emit = emit
        self._transcoder = transcoder
        self._splitter = FrameSplitter()
        self._first_input_ms: int | None = None
        self._emitted_ms = 0.0
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        await self._transcoder.start()
        self._reader = asyncio.get_running_loop().create_task(self._read_output())

    async def feed(self, data: bytes) -> None:
        if self._first_input_ms is None:
            self._first_input_ms = now_ms()
        await self._transcoder.write(data)

    async def _read_output(self) -> None:
        try:
            while chunk := await self._transcoder.read():
                await self._emit_batch(self._splitter.feed(chunk))
        except TranscoderError as problem:
            # The DJ learns of it from their next write, which fails too.
            logger.warning("Transcoding stopped: %s", problem)

    async def _emit_batch(self, batch: FrameBatch) -> None:
        if not batch.frames:
            return
        started = self._first_input_ms or now_ms()
        ingest_ms = min(now_ms(), started + int(self._emitted_ms))
        self._emitted_ms += batch.duration_ms
        await self._emit(batch.payload, batch.duration_ms, ingest_ms)

    async def aclose(self) -> None:
        try:
            await self._transcoder.aclose()
        finally:
            if self._reader is not None:
                # The reader ends by itself at ffmpeg's end of output.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._reader, timeout=1)
                self._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._reader


async def open_ingest(
    mime: str, *, bitrate_kbps: int, emit: Emit, ffmpeg: str = "ffmpeg"
) -> Ingest:
    """An ingest for ``mime``; raises :class:`UnsupportedFormat` if none."""
    mime = normalise_mime(mime)
    if mime == MP3_MIME:
        return Mp3Passthrough(emit)
    if mime not in INPUT_FORMATS:
        choices = ", ".join(supported_formats())
        raise UnsupportedFormat(f"Unsupported format {mime!r}; send one of {choices}.")
    ingest = Transcoding(
        emit,
        Transcoder(
            input_format=INPUT_FORMATS[mime], bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg
        ),
    )
    await ingest.start()
    return ingest
