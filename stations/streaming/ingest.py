"""A live DJ's byte stream in, whole MP3 frames out.

``audio/mpeg`` in the station's format is only re-framed on frame
boundaries. Anything else goes through one ffmpeg process for the whole
connection, never one per chunk:
MP3 encoders pad every file they start, so encoding chunks one by one would
put a gap between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from .mp3 import FrameSplitter, parse_header
from .packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE, now_ms
from .transcoder import INPUT_FORMATS, Transcoder, TranscoderError, normalise_mime

logger = logging.getLogger(__name__)

MP3_MIME = "audio/mpeg"
# MP3 input whose first frame has not shown up by then is handed to ffmpeg.
MAX_UNDECIDED_BYTES = 1024 * 1024
# Transcoded audio is emitted in packets of at least this much. ffmpeg writes
# each 26 ms MP3 frame out as soon as it is encoded, and a packet per frame
# would cost every listener four times the messages of a DJ's 100 ms chunks.
PACKET_MS = 100
# How long a closing transcoder's last output may take to be emitted.
READER_FINISH_TIMEOUT_S = 1.0

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

    async def aclose(self, *, flush: bool = True) -> None:
        """Stop, emitting what is left unless ``flush`` is False.

        Frees every resource the ingest holds.
        """


class Mp3Input(Ingest):
    """MP3 from the DJ, passed on as it is if it is in the station's format.

    Listeners are told the station's format in ``hello``, so MP3 at another
    sample rate, channel count or bitrate is re-encoded rather than passed
    on. The first frame decides.
    """

    def __init__(self, emit: Emit, *, bitrate_kbps: int, ffmpeg: str) -> None:
        self._emit = emit
        self._bitrate_kbps = bitrate_kbps
        self._ffmpeg = ffmpeg
        self._splitter = FrameSplitter()
        # The input so far, kept until the first frame shows its format.
        self._undecided: bytearray | None = bytearray()
        self._transcoding: Transcoding | None = None

    async def feed(self, data: bytes) -> None:
        if self._transcoding is not None:
            await self._transcoding.feed(data)
            return
        batch = self._splitter.feed(data)
        if self._undecided is not None:
            self._undecided += data
            if not batch.frames and len(self._undecided) < MAX_UNDECIDED_BYTES:
                return
            if not batch.frames or not self._in_station_format(batch.payload):
                await self._transcode(bytes(self._undecided))
                return
            self._undecided = None
        if batch.frames:
            await self._emit(batch.payload, batch.duration_ms, now_ms())

    def _in_station_format(self, frames: bytes) -> bool:
        header = parse_header(frames)
        return (
            header.sample_rate == OUTPUT_SAMPLE_RATE
            and header.channels == OUTPUT_CHANNELS
            and header.bitrate_kbps == self._bitrate_kbps
        )

    async def _transcode(self, received: bytes) -> None:
        self._undecided = None
        self._transcoding = await _start_transcoding(
            self._emit, "mp3", bitrate_kbps=self._bitrate_kbps, ffmpeg=self._ffmpeg
        )
        await self._transcoding.feed(received)

    async def aclose(self, *, flush: bool = True) -> None:
        if self._transcoding is not None:
            await self._transcoding.aclose(flush=flush)


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
        # Whole frames read but not emitted yet, and how long they last.
        self._pending = bytearray()
        self._pending_ms = 0.0
        self._reader: asyncio.Task

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
                batch = self._splitter.feed(chunk)
                self._pending += batch.payload
                self._pending_ms += batch.duration_ms
                if self._pending_ms >= PACKET_MS:
                    await self._emit_pending()
            await self._emit_pending()
        except TranscoderError as problem:
            # The DJ learns of it from their next write, which fails too.
            logger.warning("Transcoding stopped: %s", problem)

    async def _emit_pending(self) -> None:
        if not self._pending:
            return
        frames, duration_ms = bytes(self._pending), self._pending_ms
        self._pending.clear()
        self._pending_ms = 0.0
        started = self._first_input_ms or now_ms()
        ingest_ms = min(now_ms(), started + int(self._emitted_ms))
        self._emitted_ms += duration_ms
        await self._emit(frames, duration_ms, ingest_ms)

    async def aclose(self, *, flush: bool = True) -> None:
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


async def _start_transcoding(
    emit: Emit, demuxer: str, *, bitrate_kbps: int, ffmpeg: str
) -> Transcoding:
    transcoder = Transcoder(
        input_format=demuxer, bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg
    )
    ingest = Transcoding(emit, transcoder)
    await ingest.start()
    return ingest


async def open_ingest(
    mime: str, *, bitrate_kbps: int, emit: Emit, ffmpeg: str = "ffmpeg"
) -> Ingest:
    """An ingest for ``mime``; raises :class:`UnsupportedFormat` if none.

    Raises ``TranscoderError`` if ffmpeg cannot be started.
    """
    mime = normalise_mime(mime)
    if mime == MP3_MIME:
        return Mp3Input(emit, bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg)
    if mime not in INPUT_FORMATS:
        choices = ", ".join(supported_formats())
        raise UnsupportedFormat(f"Unsupported format {mime!r}; send one of {choices}.")
    return await _start_transcoding(
        emit, INPUT_FORMATS[mime], bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg
    )
