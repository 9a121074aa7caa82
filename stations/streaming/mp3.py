"""MPEG audio Layer III frame headers and re-framing of chunked MP3 streams.

Covers MPEG-1, MPEG-2 and MPEG-2.5 Layer III. The splitter turns an arbitrary
byte stream into whole frames, so that any output chunk is a valid point for a
listener to join.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import BinaryIO

logger = logging.getLogger(__name__)

HEADER_BYTES = 4
ID3V2_HEADER_BYTES = 10  # an ID3v2 footer has the same size
# The longest Layer III frame: 144 * 320 kbit/s / 32 kHz (MPEG-1), or
# 72 * 160 kbit/s / 8 kHz (MPEG-2.5), plus one padding byte.
MAX_FRAME_BYTES = 1441
# FrameSplitter never keeps more unframed input than one candidate frame
# plus the header after it, which it needs to confirm sync.
MAX_PENDING_BYTES = MAX_FRAME_BYTES + HEADER_BYTES
# How much of a file whole_frames() reads at a time.
WALK_CHUNK_BYTES = 256 * 1024

# Version bits of the header -> (MPEG version, sample rates in Hz by index).
# Version bits 0b01 are reserved.
_VERSIONS = {
    0b11: (1.0, (44100, 48000, 32000)),
    0b10: (2.0, (22050, 24000, 16000)),
    0b00: (2.5, (11025, 12000, 8000)),
}
# Layer III bitrates in kbit/s by index; index 0 (free format) and 15 are
# rejected before lookup.
_MPEG1_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Side information bytes after the header: [MPEG-1][mono].
_SIDE_INFO_BYTES = {
    (True, False): 32,
    (True, True): 17,
    (False, False): 17,
    (False, True): 9,
}
_XING_TAGS = (b"Xing", b"Info")
_VBRI_OFFSET = HEADER_BYTES + 32  # fixed, whatever the version and channels


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """The decoded 4-byte header of one Layer III frame."""

    version: float  # 1.0, 2.0 or 2.5
    bitrate_kbps: int
    sample_rate: int  # Hz
    channels: int
    padding: bool
    samples_per_frame: int
    length: int  # bytes of the whole frame, header included

    @property
    def duration_ms(self) -> float:
        """Playing time of the frame in milliseconds."""
        return self.samples_per_frame * 1000 / self.sample_rate


def parse_header(data: bytes | bytearray, offset: int = 0) -> FrameHeader | None:
    """Return the Layer III header at ``data[offset:]``, or None if none is there.

    Reserved version, bitrate and sample rate values and free-format
    (bitrate index 0) frames are rejected.
    """
    if len(data) < offset + HEADER_BYTES or data[offset] != 0xFF:
        return None
    b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
    # 11 sync bits, then layer bits 0b01 for Layer III.
    if b1 & 0xE0 != 0xE0 or b1 & 0x06 != 0x02:
        return None
    version_bits = (b1 >> 3) & 0x03
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 0x03
    if version_bits == 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    version, rates = _VERSIONS[version_bits]
    sample_rate = rates[rate_index]
    padding = (b2 >> 1) & 1
    if version == 1.0:
        bitrate_kbps = _MPEG1_KBPS[bitrate_index]
        samples, length = 1152, 144_000 * bitrate_kbps // sample_rate + padding
    else:
        bitrate_kbps = _MPEG2_KBPS[bitrate_index]
        samples, length = 576, 72_000 * bitrate_kbps // sample_rate + padding
    return FrameHeader(
        version=version,
        bitrate_kbps=bitrate_kbps,
        sample_rate=sample_rate,
        channels=1 if b3 >> 6 == 0b11 else 2,
        padding=bool(padding),
        samples_per_frame=samples,
        length=length,
    )


def _id3v2_length(data: bytearray, offset: int) -> int | None:
    """Return the length of the ID3v2 tag at ``data[offset:]``, footer included.

    Needs ID3V2_HEADER_BYTES of data; returns None if they are not a tag header.
    """
    header = data[offset : offset + ID3V2_HEADER_BYTES]
    version, revision, flags, size = header[3], header[4], header[5], header[6:]
    if version not in (2, 3, 4) or revision == 0xFF or any(b & 0x80 for b in size):
        return None
    syncsafe = size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3]
    footer = ID3V2_HEADER_BYTES if flags & 0x10 else 0
    return ID3V2_HEADER_BYTES + syncsafe + footer


def _is_vbr_info(data: bytearray, offset: int, header: FrameHeader) -> bool:
    """Tell whether the frame at ``offset`` is a Xing/Info/VBRI metadata frame."""
    side_info = _SIDE_INFO_BYTES[header.version == 1.0, header.channels == 1]
    xing = offset + HEADER_BYTES + side_info
    vbri = offset + _VBRI_OFFSET
    return data[xing : xing + 4] in _XING_TAGS or data[vbri : vbri + 4] == b"VBRI"


def _same_stream_at(data: bytearray, offset: int, header: FrameHeader) -> bool:
    """Tell whether a header with the same version and sample rate is at offset."""
    following = parse_header(data, offset)
    return following is not None and (
        (following.version, following.sample_rate)
        == (header.version, header.sample_rate)
    )


def _next_candidate(data: bytearray, start: int) -> int:
    """Return where the next frame header or ID3v2 tag might start."""
    sync = data.find(b"\xff", start)
    end = len(data) if sync < 0 else sync
    tag = data.find(b"ID3", start, end)
    if tag >= 0:
        return tag
    # Keep a trailing b"I" or b"ID" in case a tag is split across chunks.
    return sync if sync >= 0 else max(start, end - 2)


@dataclass(frozen=True, slots=True)
class FrameBatch:
    """Whole frames cut from one chunk of input."""

    payload: bytes  # zero or more whole frames, concatenated
    frames: int
    duration_ms: float


class FrameSplitter:
    """Re-frame a chunked MP3 byte stream into whole Layer III frames.

    ID3v2 tags, Xing/Info/VBRI frames and junk between frames are dropped.
    Sync is found by two consecutive headers with the same version and sample
    rate; once found, each frame whose header matches the stream is emitted
    as soon as its last byte arrives.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        # (version, sample rate, channels) of the stream while in sync.
        self._locked: tuple[float, int, int] | None = None
        # Bytes of an ID3v2 tag still to discard from future input.
        self._skip = 0

    @property
    def pending(self) -> int:
        """Bytes of input held back; never more than MAX_PENDING_BYTES."""
        return len(self._buf)

    def feed(self, data: bytes) -> FrameBatch:
        """Add a chunk of the stream and return the frames it completed."""
        if self._skip:
            skipped = min(self._skip, len(data))
            self._skip -= skipped
            data = data[skipped:]
        buf = self._buf
        buf += data
        size = len(buf)
        out = bytearray()
        frames = 0
        duration_ms = 0.0
        pos = 0
        while size - pos >= HEADER_BYTES:
            if buf[pos] == 0x49 and buf.startswith(b"ID3", pos):
                if size - pos < ID3V2_HEADER_BYTES:
                    break
                tag_length = _id3v2_length(buf, pos)
                if tag_length is not None:
                    logger.debug("Skipping a %s-byte ID3v2 tag", tag_length)
                    self._skip = max(0, pos + tag_length - size)
                    pos = min(pos + tag_length, size)
                    continue
            elif (header := parse_header(buf, pos)) is not None:
                end = pos + header.length
                key = (header.version, header.sample_rate, header.channels)
                if self._locked is None:
                    if end + HEADER_BYTES > size:
                        break
                    if _same_stream_at(buf, end, header):
                        logger.debug("MP3 sync found: %s", header)
                        self._locked = key
                if key == self._locked:
                    if end > size:
                        break
                    if _is_vbr_info(buf, pos, header):
                        logger.debug("Dropping a Xing/Info/VBRI frame")
                    else:
                        out += buf[pos:end]
                        frames += 1
                        duration_ms += header.duration_ms
                    pos = end
                    continue
            # No tag or frame of this stream starts at pos: resync.
            if self._locked is not None:
                logger.debug("MP3 sync lost")
                self._locked = None
            pos = _next_candidate(buf, pos + 1)
        del buf[:pos]
        return FrameBatch(payload=bytes(out), frames=frames, duration_ms=duration_ms)


def whole_frames(stream: BinaryIO) -> tuple[int, float]:
    """How many bytes from the start of ``stream`` are whole MP3 frames, and
    how long those frames last in milliseconds.

    Reads on until the end or until something is not a frame, such as the
    last frame of a recording cut short.
    """
    buf = bytearray()
    start = 0  # where buf starts in the stream
    pos = 0  # in buf
    duration_ms = 0.0
    while True:
        header = parse_header(buf, pos) if len(buf) - pos >= HEADER_BYTES else None
        if header is not None and pos + header.length <= len(buf):
            pos += header.length
            duration_ms += header.duration_ms
            continue
        if header is None and len(buf) - pos >= HEADER_BYTES:
            return start + pos, duration_ms
        chunk = stream.read(WALK_CHUNK_BYTES)
        if not chunk:
            return start + pos, duration_ms
        start += pos
        del buf[:pos]
        pos = 0
        buf += chunk
