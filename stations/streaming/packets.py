"""What a station's output is made of: audio packets and control events.

An audio packet goes to listeners as one binary WebSocket message: a 12-byte
big-endian header (``uint32 seq``, ``uint64 ingest_ms``) and then one or more
whole MP3 frames. Every packet starts on a frame boundary, so a listener may
start playing at any packet.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from typing import Any

# Every station's output is MP3 at its own bitrate and this format.
OUTPUT_SAMPLE_RATE = 44100
OUTPUT_CHANNELS = 2

HEADER = struct.Struct(">IQ")
HEADER_BYTES = HEADER.size
SEQ_MODULUS = 2**32
# Audio goes out in packets of at least this much where the source allows.
# A packet per 26 ms frame would cost every listener four times the
# messages; a console DJ's 100 ms chunks (three or four frames) still go out
# as they come.
MIN_PACKET_MS = 75


def now_ms() -> int:
    """Wall clock in milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class AudioPacket:
    """Whole MP3 frames of a station's output, numbered by ``seq``."""

    seq: int
    ingest_ms: int
    duration_ms: float
    wire: bytes = field(repr=False)

    @classmethod
    def build(
        cls, *, seq: int, ingest_ms: int, duration_ms: float, frames: bytes
    ) -> AudioPacket:
        wire = HEADER.pack(seq % SEQ_MODULUS, ingest_ms) + frames
        return cls(seq=seq, ingest_ms=ingest_ms, duration_ms=duration_ms, wire=wire)

    @property
    def frames(self) -> memoryview:
        """The MP3 frames without the header."""
        return memoryview(self.wire)[HEADER_BYTES:]


@dataclass(frozen=True, eq=False, slots=True)
class AudioBatch:
    """Consecutive packets written to each listener at once.

    Each packet stays a message of its own; a batch only saves every
    listener the writes (``StationHub``'s cadence). Compared by identity,
    so that what is made of it for every listener can be cached.
    """

    packets: tuple[AudioPacket, ...]


def parse_header(message: bytes) -> tuple[int, int]:
    """Return ``(seq, ingest_ms)`` from an audio message."""
    return HEADER.unpack_from(message)


@dataclass(frozen=True, slots=True)
class Event:
    """A JSON message of the station's output, encoded once for everyone."""

    data: dict[str, Any]
    text: str = field(repr=False)

    @classmethod
    def build(cls, data: dict[str, Any]) -> Event:
        return cls(data=data, text=json.dumps(data, separators=(",", ":")))

    @property
    def type(self) -> str:
        return self.data["type"]
