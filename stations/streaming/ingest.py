"""A live DJ's byte stream in, whole MP3 frames out.

``audio/mpeg`` in the station's format is only re-framed on frame
boundaries. Anything else goes through the station's encoder
(``encoder.Mp3Encoder``): one ffmpeg for the whole connection. A source
whose declared type cannot be trusted is sniffed first (``sniff``).
"""

from __future__ import annotations

from typing import Protocol

from .encoder import Emit, Mp3Encoder, start_encoder
from .mp3 import FrameSplitter, parse_header
from .packets import MIN_PACKET_MS, OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE, now_ms
from .sniff import MP3_MIME, sniff_mime
from .transcoder import INPUT_FORMATS, normalise_mime

# MP3 input whose first frame has not shown up by then is handed to ffmpeg.
MAX_UNDECIDED_BYTES = 1024 * 1024
# A sniffed stream whose first bytes have not told its format by then is
# taken to be what it was declared as.
MAX_SNIFF_BYTES = 4096


class UnsupportedFormat(ValueError):
    """The DJ's stream is in a format the server cannot take."""


def supported_formats() -> list[str]:
    return sorted({MP3_MIME, *INPUT_FORMATS})


def is_supported(mime: str) -> bool:
    """Whether a stream declared as ``mime`` can be taken."""
    return normalise_mime(mime) in {MP3_MIME, *INPUT_FORMATS}


def _choices() -> str:
    return ", ".join(supported_formats())


class Ingest(Protocol):
    """Takes the DJ's chunks in order and emits whole MP3 frames."""

    async def feed(self, data: bytes) -> None: ...

    async def aclose(self, *, flush: bool = True) -> None:
        """Stop, emitting what is left unless ``flush`` is False.

        Frees every resource the ingest holds.
        """


class Mp3Input:
    """MP3 from the DJ, passed on as it is if it is in the station's format.

    Listeners are told the station's format in ``hello``, so MP3 at another
    sample rate, channel count or bitrate is re-encoded rather than passed
    on. The first frame decides. Desktop encoders (ffmpeg, libshout) write
    each 26 ms frame on its own; passed-through frames go out in packets of
    at least ``MIN_PACKET_MS``.
    """

    def __init__(self, emit: Emit, *, bitrate_kbps: int, ffmpeg: str) -> None:
        self._emit = emit
        self._bitrate_kbps = bitrate_kbps
        self._ffmpeg = ffmpeg
        self._splitter = FrameSplitter()
        # The input so far, kept until the first frame shows its format.
        self._undecided: bytearray | None = bytearray()
        self._encoder: Mp3Encoder | None = None
        # Frames held for the next packet, how long they last, and when the
        # first of them arrived.
        self._pending = bytearray()
        self._pending_ms = 0.0
        self._pending_since = 0

    async def feed(self, data: bytes) -> None:
        if self._encoder is not None:
            await self._encoder.feed(data)
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
        if not batch.frames:
            return
        if not self._pending:
            self._pending_since = now_ms()
        self._pending += batch.payload
        self._pending_ms += batch.duration_ms
        if self._pending_ms >= MIN_PACKET_MS:
            await self._emit_pending()

    async def _emit_pending(self) -> None:
        frames, duration_ms = bytes(self._pending), self._pending_ms
        self._pending.clear()
        self._pending_ms = 0.0
        await self._emit(frames, duration_ms, self._pending_since)

    def _in_station_format(self, frames: bytes) -> bool:
        header = parse_header(frames)
        return (
            header.sample_rate == OUTPUT_SAMPLE_RATE
            and header.channels == OUTPUT_CHANNELS
            and header.bitrate_kbps == self._bitrate_kbps
        )

    async def _transcode(self, received: bytes) -> None:
        self._undecided = None
        self._encoder = await start_encoder(
            self._emit, "mp3", bitrate_kbps=self._bitrate_kbps, ffmpeg=self._ffmpeg
        )
        await self._encoder.feed(received)

    async def aclose(self, *, flush: bool = True) -> None:
        if self._encoder is not None:
            await self._encoder.aclose(flush=flush)
        elif flush and self._pending:
            await self._emit_pending()


class SniffingInput:
    """A stream whose format its first bytes decide, not its declared type.

    The bytes are held until they tell the format, or until
    MAX_SNIFF_BYTES have come; then the declared type is used if it is
    one the server takes. ffmpeg starts only then.
    """

    def __init__(
        self, declared: str, emit: Emit, *, bitrate_kbps: int, ffmpeg: str
    ) -> None:
        self._declared = declared
        self._emit = emit
        self._bitrate_kbps = bitrate_kbps
        self._ffmpeg = ffmpeg
        self._head = bytearray()
        self._ingest: Ingest | None = None

    async def feed(self, data: bytes) -> None:
        """Take the next bytes; raises UnsupportedFormat if none is found."""
        if self._ingest is None:
            self._head += data
            mime = sniff_mime(self._head)
            if mime is None and len(self._head) < MAX_SNIFF_BYTES:
                return
            data, self._head = bytes(self._head), bytearray()
            if mime is None and not is_supported(self._declared):
                raise UnsupportedFormat(
                    f"The stream's first {len(data)} bytes are in no format the "
                    f"server reads, and its declared type {self._declared!r} is "
                    f"not one it takes either; send one of {_choices()}."
                )
            self._ingest = await _open_supported(
                mime or self._declared,
                bitrate_kbps=self._bitrate_kbps,
                emit=self._emit,
                ffmpeg=self._ffmpeg,
            )
        await self._ingest.feed(data)

    async def aclose(self, *, flush: bool = True) -> None:
        """Stop; bytes that never told their format are dropped."""
        if self._ingest is not None:
            await self._ingest.aclose(flush=flush)


async def open_ingest(
    mime: str,
    *,
    bitrate_kbps: int,
    emit: Emit,
    ffmpeg: str = "ffmpeg",
    sniff: bool = False,
) -> Ingest:
    """An ingest for ``mime``; raises :class:`UnsupportedFormat` if none.

    Raises ``TranscoderError`` if ffmpeg cannot be started. With ``sniff``,
    ``mime`` is only the declared type: the stream's first bytes decide
    (see :class:`SniffingInput`), so this neither raises nor starts ffmpeg,
    and feed() raises UnsupportedFormat instead.
    """
    if sniff:
        return SniffingInput(mime, emit, bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg)
    if not is_supported(mime):
        raise UnsupportedFormat(
            f"Unsupported format {normalise_mime(mime)!r}; send one of {_choices()}."
        )
    return await _open_supported(
        mime, bitrate_kbps=bitrate_kbps, emit=emit, ffmpeg=ffmpeg
    )


async def _open_supported(
    mime: str, *, bitrate_kbps: int, emit: Emit, ffmpeg: str
) -> Ingest:
    mime = normalise_mime(mime)
    if mime == MP3_MIME:
        return Mp3Input(emit, bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg)
    return await start_encoder(
        emit, INPUT_FORMATS[mime], bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg
    )
