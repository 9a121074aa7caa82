"""The AutoDJ's playout: a station's library as one continuous stream.

Each track is decoded by ffmpeg into raw PCM, brought to the station's
loudness on the way; consecutive tracks are crossfaded here; ONE encoder
turns the whole program into the station's MP3 for as long as the AutoDJ
plays. MP3 encoders pad the start and end of whatever they encode, so
encoding track by track would put a gap at every boundary.

Only a few seconds of PCM are held at a time, however long a track is:
the decoders' pipes make ffmpeg wait until the program needs more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from pydub.utils import audioop

from .bus import AUTODJ, Lease, StationBus
from .encoder import Mp3Encoder
from .ffmpeg_whitelists import library_file_input, pipe_output
from .hub import now_playing_event
from .packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE
from .producer import Producer
from .transcoder import PCM_FORMAT, FfmpegProcess, Transcoder, TranscoderError

logger = logging.getLogger(__name__)

SAMPLE_BYTES = 2
FRAME_BYTES = SAMPLE_BYTES * OUTPUT_CHANNELS
PCM_BYTES_PER_MS = OUTPUT_SAMPLE_RATE * FRAME_BYTES / 1000
# The program goes to the encoder in pieces this long.
CHUNK_FRAMES = OUTPUT_SAMPLE_RATE // 10
CHUNK_BYTES = CHUNK_FRAMES * FRAME_BYTES
# The encoder is fed this far ahead of real time, so that a busy moment
# (the next track starting, a busy worker) does not starve the listeners.
LEAD_S = 0.3
# After a longer stall the pace starts again from now instead of rushing.
MAX_LAG_S = 1.0
# The next track's decoder is started this long before it is needed.
PREFETCH_MS = 5_000
# Gain changes in steps of this many frames during a crossfade.
FADE_STEP_FRAMES = 64
# Tracks in a row that give no audio before the playout gives up.
MAX_UNPLAYABLE_IN_A_ROW = 3
# Keeps the loudness gain from clipping: a limiter just under full scale.
LIMITER = "alimiter=limit=0.95:level=false:latency=true"


@dataclass(frozen=True)
class QueuedTrack:
    """A track to play, as the library hands it out."""

    path: str
    title: str
    artist: str
    duration_ms: int
    # Brings the track to the station's loudness.
    gain_db: float
    # The song request it plays, if a listener asked for it.
    request_id: int | None = None


NextTrack = Callable[[], Awaitable[QueuedTrack | None]]
# Told the request id of a requested track once it is heard; returns at once.
RequestHeard = Callable[[int], None]


class NothingPlayable(RuntimeError):
    """Track after track gave no audio."""


class TrackDecoder(FfmpegProcess):
    """One track as raw PCM in the station's sample format, at its gain."""

    def __init__(self, track: QueuedTrack, *, ffmpeg: str = "ffmpeg") -> None:
        loudness = f"volume={track.gain_db:.2f}dB,{LIMITER}"
        args = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin"]
        args += [*library_file_input(track.path), "-vn", "-af", loudness]
        args += ["-f", PCM_FORMAT, "-ac", str(OUTPUT_CHANNELS)]
        args += ["-ar", str(OUTPUT_SAMPLE_RATE), *pipe_output()]
        super().__init__(args)
        self.track = track
        self._pending = bytearray()
        self.decoded_bytes = 0

    async def read_exactly(self, size: int) -> bytes:
        """The next ``size`` bytes; fewer only at the end of the track.

        A track that fails to decode part way ends there.
        """
        while len(self._pending) < size:
            try:
                data = await self.read()
            except TranscoderError as problem:
                logger.warning("Track %s ends early: %s", self.track.path, problem)
                data = b""
            if not data:
                break
            self._pending += data
        piece = bytes(self._pending[:size])
        del self._pending[:size]
        self.decoded_bytes += len(piece)
        return piece


def crossfade(tail: bytes, head: bytes) -> bytes:
    """``tail`` fading out as ``head`` fades in over its end.

    ``head`` must not be longer than ``tail``; the result is as long as
    ``tail``, so the program loses the overlap and nothing else.
    """
    overlap = len(head)
    out = bytearray(tail[: len(tail) - overlap])
    fading = tail[len(tail) - overlap :]
    step = FADE_STEP_FRAMES * FRAME_BYTES
    for start in range(0, overlap, step):
        end = min(start + step, overlap)
        rising = (start + end) / 2 / overlap
        out_part = audioop.mul(fading[start:end], SAMPLE_BYTES, 1.0 - rising)
        in_part = audioop.mul(head[start:end], SAMPLE_BYTES, rising)
        out += audioop.add(out_part, in_part, SAMPLE_BYTES)
    return bytes(out)


class Program:
    """The library's tracks one after another, crossfaded, as PCM."""

    def __init__(
        self, next_track: NextTrack, *, crossfade_ms: int, ffmpeg: str = "ffmpeg"
    ) -> None:
        self._next_track = next_track
        self._crossfade_bytes = _whole_frames(crossfade_ms * PCM_BYTES_PER_MS)
        self._ffmpeg = ffmpeg
        self._unplayable_in_a_row = 0
        self._skipping = False

    def skip(self) -> None:
        """Fade the track playing into the next one now, not at its end."""
        self._skipping = True

    async def pcm(self) -> AsyncIterator[tuple[bytes, QueuedTrack | None]]:
        """Yield the program in pieces, each with the track first heard in it.

        Ends when the library is empty; raises :class:`NothingPlayable`
        when tracks keep failing.
        """
        current = await self._open_next()
        first_heard = current.track if current else None
        following: TrackDecoder | None = None
        try:
            while current is not None:
                tail = bytearray()
                asked_for_following = False
                while piece := await current.read_exactly(CHUNK_BYTES):
                    tail += piece
                    if self._skipping:
                        self._skipping = False
                        break
                    if not asked_for_following and self._due_to_follow(current):
                        asked_for_following = True
                        following = await self._open_next()
                    if len(tail) > self._crossfade_bytes:
                        ready = bytes(tail[: len(tail) - self._crossfade_bytes])
                        del tail[: len(ready)]
                        yield ready, first_heard
                        first_heard = None
                self._count_playable(current)
                await current.kill()
                if not asked_for_following:
                    following = await self._open_next()
                if following is None:
                    if tail:
                        yield bytes(tail), first_heard
                    return
                head = await following.read_exactly(len(tail))
                yield crossfade(bytes(tail), head), following.track
                first_heard = None
                current, following = following, None
        finally:
            for decoder in (current, following):
                if decoder is not None:
                    await decoder.kill()

    def _due_to_follow(self, current: TrackDecoder) -> bool:
        decoded_ms = current.decoded_bytes / PCM_BYTES_PER_MS
        remaining_ms = current.track.duration_ms - decoded_ms
        return remaining_ms <= self._crossfade_bytes / PCM_BYTES_PER_MS + PREFETCH_MS

    async def _open_next(self) -> TrackDecoder | None:
        track = await self._next_track()
        if track is None:
            return None
        decoder = TrackDecoder(track, ffmpeg=self._ffmpeg)
        await decoder.start()
        return decoder

    def _count_playable(self, decoder: TrackDecoder) -> None:
        if decoder.decoded_bytes:
            self._unplayable_in_a_row = 0
            return
        self._unplayable_in_a_row += 1
        if self._unplayable_in_a_row >= MAX_UNPLAYABLE_IN_A_ROW:
            raise NothingPlayable(f"{self._unplayable_in_a_row} tracks gave no audio")


def _whole_frames(size: float) -> int:
    return int(size) // FRAME_BYTES * FRAME_BYTES


@dataclass(frozen=True)
class _Mark:
    """Where in the program a track is first heard."""

    at_ms: float
    track: QueuedTrack


class Playout:
    """The AutoDJ on one station, for as long as it holds the station."""

    def __init__(
        self,
        *,
        bus: StationBus,
        lease: Lease,
        next_track: NextTrack,
        bitrate_kbps: int,
        crossfade_ms: int,
        ffmpeg: str = "ffmpeg",
        request_heard: RequestHeard | None = None,
    ) -> None:
        if lease.kind != AUTODJ:
            raise ValueError("A playout needs an AutoDJ lease.")
        self._producer = Producer(bus, lease)
        self._program = Program(next_track, crossfade_ms=crossfade_ms, ffmpeg=ffmpeg)
        self._encoder = Mp3Encoder(
            self._emit,
            Transcoder(
                input_format=PCM_FORMAT, bitrate_kbps=bitrate_kbps, ffmpeg=ffmpeg
            ),
        )
        self._marks: deque[_Mark] = deque()
        self._request_heard = request_heard
        self._emitted_ms = 0.0
        self._on_air = False
        self._handing_over = False

    async def run(self) -> None:
        """Play until the lease is lost, the library is empty or it fails.

        The caller has claimed the lease. Unless another producer took it,
        the station goes off air and the lease is released at the end (only
        released, after ``hand_over``).
        """
        await self._encoder.start()
        keeper = asyncio.get_running_loop().create_task(self._producer.hold())
        try:
            await self._play()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._encoder.aclose(flush=not self._producer.lost)
            await self._producer.end(announce=self._on_air and not self._handing_over)

    def hand_over(self) -> None:
        """End the playout soon, leaving the station on air for the AutoDJ
        of another process to take at once."""
        self._handing_over = True

    def skip(self) -> None:
        """Move on to the next track at once, crossfading."""
        self._program.skip()

    async def _go_on_air(self) -> None:
        await self._producer.number_from_station()
        self._on_air = await self._producer.go_on_air()

    async def _play(self) -> None:
        """Feed the program to the encoder at real-time pace."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        written_ms = 0.0
        async with contextlib.aclosing(self._program.pcm()) as program:
            async for pcm, first_heard in program:
                if not self._on_air:
                    await self._go_on_air()
                if first_heard is not None:
                    self._marks.append(_Mark(at_ms=written_ms, track=first_heard))
                for start in range(0, len(pcm), CHUNK_BYTES):
                    delay = started + written_ms / 1000 - LEAD_S - loop.time()
                    if delay < -MAX_LAG_S:
                        started -= delay
                        # What is fed now is heard LEAD_S from now.
                        self._encoder.restart_pace(written_ms - LEAD_S * 1000)
                    elif delay > 0:
                        await asyncio.sleep(delay)
                    if self._producer.lost or self._handing_over:
                        return
                    piece = pcm[start : start + CHUNK_BYTES]
                    await self._encoder.feed(piece)
                    written_ms += len(piece) / PCM_BYTES_PER_MS

    async def _emit(self, frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        """Publish the encoder's output, and each track where it is first heard."""
        while self._marks and self._marks[0].at_ms < self._emitted_ms + duration_ms:
            track = self._marks.popleft().track
            published = await self._producer.publish(
                now_playing_event(
                    title=track.title,
                    artist=track.artist,
                    source=AUTODJ,
                    seq=self._producer.next_seq,
                    is_request=track.request_id is not None,
                )
            )
            if published and track.request_id is not None and self._request_heard:
                self._request_heard(track.request_id)
        self._emitted_ms += duration_ms
        await self._producer.publish_audio(frames, duration_ms, ingest_ms)
