"""A station's output as HLS: packed MP3 segments and a sliding playlist.

Segment ``k`` holds the audio packets whose ``seq`` lies in
``[k * SEGMENT_PACKETS, (k + 1) * SEGMENT_PACKETS)``, as raw MP3 frames after
an ID3 tag (RFC 8216 §3.4: packed audio). Every process that reads the same
output in the same order therefore cuts the same segments, with the same
bytes, and names them after a digest of those bytes: any process answers
any request, and a name is never reused for other bytes, even once the
station's ``seq`` starts over.

A process only makes a segment whose every packet (and title) it read:
one that starts reading in the middle of a segment skips that one.
"""

from __future__ import annotations

import hashlib
import struct
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from radio.protocol import NOW_PLAYING, ON_AIR

from .packets import AudioPacket, Event

# AutoDJ and console packets last 100 ms: segments of 2 s.
SEGMENT_PACKETS = 20
# No segment may last longer, rounded (RFC 8216 §4.3.3.1): twenty of the
# longest packets the encoder makes (200 ms). It never changes.
TARGET_DURATION_S = 4
# Segments in the playlist: a player starts three from the end.
WINDOW_SEGMENTS = 6
PLAYLIST_NAME = "live.m3u8"
SEGMENT_SUFFIX = ".mp3"

# The ID3 PRIV owner carrying a packed audio segment's first timestamp.
TIMESTAMP_OWNER = b"com.apple.streaming.transportStreamTimestamp"
# MPEG-2 timestamps count a 90 kHz clock in 33 bits.
TIMESTAMP_HZ = 90_000
TIMESTAMP_MODULUS = 2**33
DIGEST_BYTES = 6


@dataclass(frozen=True, slots=True)
class Segment:
    """One finished segment; its bytes never change."""

    number: int
    # ``<number>-<digest of data>.mp3``
    name: str
    duration_s: float
    # Whether the audio does not follow on from the previous segment's.
    discontinuity: bool
    data: bytes = field(repr=False)

    @classmethod
    def build(
        cls,
        *,
        number: int,
        packets: list[AudioPacket],
        title: tuple[str, str] | None,
        discontinuity: bool,
    ) -> Segment:
        tag = id3_tag(timestamp_ms=packets[0].ingest_ms, title=title)
        data = tag + b"".join(packet.frames for packet in packets)
        digest = hashlib.blake2b(data, digest_size=DIGEST_BYTES).hexdigest()
        return cls(
            number=number,
            name=f"{number}-{digest}{SEGMENT_SUFFIX}",
            duration_s=sum(packet.duration_ms for packet in packets) / 1000,
            discontinuity=discontinuity,
            data=data,
        )


def _synchsafe(size: int) -> bytes:
    """``size`` in four bytes of seven bits each, as ID3v2.4 sizes are."""
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _id3_frame(frame_id: bytes, body: bytes) -> bytes:
    return frame_id + _synchsafe(len(body)) + b"\x00\x00" + body


def _text_frame(frame_id: bytes, text: str) -> bytes:
    return _id3_frame(frame_id, b"\x03" + text.encode())  # 3: UTF-8


def id3_tag(*, timestamp_ms: int, title: tuple[str, str] | None) -> bytes:
    """An ID3v2.4 tag with the segment's timestamp and, if any, its title.

    The timestamp is the wall clock the first packet was ingested at, so
    consecutive segments follow on as the audio did.
    """
    timestamp = timestamp_ms * (TIMESTAMP_HZ // 1000) % TIMESTAMP_MODULUS
    priv = TIMESTAMP_OWNER + b"\x00" + struct.pack(">Q", timestamp)
    frames = _id3_frame(b"PRIV", priv)
    if title is not None:
        name, artist = title
        frames += _text_frame(b"TIT2", name) + _text_frame(b"TPE1", artist)
    return b"ID3\x04\x00\x00" + _synchsafe(len(frames)) + frames


class Segmenter:
    """Cuts a station's output, read in order, into segments.

    The newest ``keep`` finished segments are kept. A title goes in the tag
    of the segment its ``now_playing`` starts in (``seq``), so every process
    tags the same segments.
    """

    def __init__(self, *, keep: int = WINDOW_SEGMENTS) -> None:
        self.segments: deque[Segment] = deque(maxlen=keep)
        self._by_name: dict[str, Segment] = {}
        # The seq of the last packet read; None before the first.
        self._last_seq: int | None = None
        # The number of the segment being filled, and its packets so far;
        # None while it started before reading did or was cut short.
        self._open_number: int | None = None
        self._open: list[AudioPacket] | None = None
        # Whether the open segment does not follow on from the one before.
        self._open_discontinuous = False
        # Set where the audio breaks (lost packets, off air); the next
        # segment to open is marked discontinuous.
        self._broken = False
        # Titles read and not put in a segment yet, by the seq they start at.
        self._titles: list[tuple[int, tuple[str, str]]] = []

    def feed(self, items: Iterable[AudioPacket | Event]) -> None:
        for item in items:
            if isinstance(item, AudioPacket):
                self._take_packet(item)
            else:
                self._take_event(item)

    def segment(self, name: str) -> Segment | None:
        """The kept segment called ``name``, if any."""
        return self._by_name.get(name)

    def may_come(self, name: str) -> bool:
        """Whether ``name`` may be a segment just made, not read here yet
        (another process listed it): the next one or the one after."""
        number, _, _ = name.partition("-")
        newest = self.segments[-1].number if self.segments else None
        return number.isdigit() and (
            newest is None or newest < int(number) <= newest + 2
        )

    def _take_event(self, event: Event) -> None:
        if event.type == NOW_PLAYING:
            title = (event.data["title"], event.data["artist"])
            self._titles.append((event.data["seq"], title))
        elif event.type == ON_AIR and not event.data["on_air"]:
            # The open segment waits for the next broadcast, which numbers
            # on: it ends with that broadcast's start (and title), and the
            # timeline breaks after it.
            self._broken = True

    def _take_packet(self, packet: AudioPacket) -> None:
        number = packet.seq // SEGMENT_PACKETS
        last, self._last_seq = self._last_seq, packet.seq
        if last is not None and packet.seq <= last:
            # The station's numbering started over (a Redis that restarted
            # empty): so does the segmenting, from the next segment.
            self._close()
            self._open_number, self._open = number, None
            self._titles.clear()
            self._broken = True
            return
        if last is not None and packet.seq != last + 1:
            self._broken = True
        if number != self._open_number:
            self._close()
            self._open_number = number
            # Made only if read from its first packet on.
            self._open = [] if last is not None else None
            self._open_discontinuous, self._broken = self._broken, False
        if self._open is not None:
            self._open.append(packet)

    def _close(self) -> None:
        """Finish the open segment, if it was read whole."""
        if not self._open:
            return
        number = self._open_number
        start, end = number * SEGMENT_PACKETS, (number + 1) * SEGMENT_PACKETS
        titles = [title for seq, title in self._titles if start <= seq < end]
        self._titles = [t for t in self._titles if t[0] >= end]
        segment = Segment.build(
            number=number,
            packets=self._open,
            title=titles[-1] if titles else None,
            discontinuity=self._open_discontinuous,
        )
        self._open = None
        if len(self.segments) == self.segments.maxlen:
            del self._by_name[self.segments[0].name]
        self.segments.append(segment)
        self._by_name[segment.name] = segment


def playlist(segments: Iterable[Segment]) -> str:
    """The media playlist of the newest run of consecutive ``segments``."""
    run: list[Segment] = []
    for segment in segments:
        if run and segment.number != run[-1].number + 1:
            run = []
        run.append(segment)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{TARGET_DURATION_S}",
        f"#EXT-X-MEDIA-SEQUENCE:{run[0].number if run else 0}",
    ]
    for index, segment in enumerate(run):
        if segment.discontinuity and index:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXTINF:{segment.duration_s:.3f},", segment.name]
    return "\n".join(lines) + "\n"
