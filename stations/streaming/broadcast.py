"""A live DJ's broadcast: the station's lease, its on-air state, its audio.

A broadcast outlives the DJ's connection by a grace period: a DJ whose
network drops may connect again (to any process) and carry on, and the
listeners see a short gap in the audio rather than the station going off
air. A DJ who stops, or whose connection is closed cleanly, ends it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Protocol

from .bus import LIVE, Claim, Lease, StationBus
from .hub import now_playing_event
from .ingest import Ingest, open_ingest
from .pacing import AudioPace
from .producer import Producer


@dataclass(frozen=True)
class BroadcastSettings:
    bitrate_kbps: int
    idle_timeout_s: float
    reconnect_grace_s: float
    # How far ahead of real time the DJ's audio may run (``pacing.AudioPace``).
    audio_head_start_s: float = 10.0
    max_audio_speed: float = 2.0
    ffmpeg: str = "ffmpeg"


@dataclass(frozen=True)
class OnAir:
    """Who is on air, and how their stream describes itself.

    The name, description, genre and URL are those an Icecast source sends
    in its ``ice-*`` headers; the station keeps its own name.
    """

    dj: str
    name: str = ""
    description: str = ""
    genre: str = ""
    url: str = ""

    def as_broadcast(self) -> dict[str, str]:
        """The ``broadcast`` of the ``on_air`` event, starting now."""
        return {**asdict(self), "started_at": datetime.now(UTC).isoformat()}


class Recorder(Protocol):
    """Keeps what a broadcast published (``programme.recording``)."""

    def record(self, seq: int, frames: bytes, duration_ms: float) -> None:
        """Take audio packet ``seq`` as it went out; must not block."""

    async def pause(self) -> None:
        """Save what was taken: the broadcast may go on in another process."""

    async def finish(self) -> None:
        """The broadcast, as this object knows it, has ended."""


# The ``on_lost`` reason of a broadcast whose lease another producer took.
LEASE_LOST = "lease_lost"


class BroadcastTooFast(Exception):
    """The DJ's audio arrives much faster than it plays."""


class Broadcast:
    """One DJ's turn on a station, as seen from the DJ's connection."""

    def __init__(
        self,
        *,
        bus: StationBus,
        station_id: int,
        user_id: int,
        on_air: OnAir,
        settings: BroadcastSettings,
        on_lost: Callable[[str], None],
    ) -> None:
        self._on_air = on_air
        self._settings = settings
        self._on_lost = on_lost
        self._producer = Producer(
            bus, Lease(station_id=station_id, token=uuid.uuid4().hex, user_id=user_id)
        )
        self._ingest: Ingest | None = None
        self._last_input = 0.0
        self._keeper: asyncio.Task | None = None
        self._pace = AudioPace(
            head_start_s=settings.audio_head_start_s,
            max_speed=settings.max_audio_speed,
        )
        self._too_fast = False
        self._end_callbacks: list[Callable[[], None]] = []
        self.live = False
        # Set by whoever started the broadcast to keep its audio.
        self.recorder: Recorder | None = None

    @property
    def station_id(self) -> int:
        return self._producer.station_id

    @property
    def token(self) -> str:
        """The lease's token: which broadcast of the station this is."""
        return self._producer.lease.token

    async def start(self, mime: str, *, sniff: bool = False) -> Claim:
        """Go on air with audio in ``mime``; REFUSED if another DJ is live.

        With ``sniff``, ``mime`` is only what the DJ's encoder declared and
        the audio's first bytes decide (``ingest.open_ingest``). Raises
        ``UnsupportedFormat`` before claiming anything.
        """
        ingest = await open_ingest(
            mime,
            sniff=sniff,
            bitrate_kbps=self._settings.bitrate_kbps,
            emit=self._publish_audio,
            ffmpeg=self._settings.ffmpeg,
        )
        try:
            claim = await self._producer.claim()
        except BaseException:
            await ingest.aclose(flush=False)
            raise
        if claim is Claim.REFUSED:
            await ingest.aclose()
            return claim
        self._ingest = ingest
        self._last_input = asyncio.get_running_loop().time()
        self.live = True
        if claim is Claim.GRANTED:
            await self._producer.go_on_air(self._on_air.as_broadcast())
        else:
            self._producer.broadcast = self._on_air.as_broadcast()
        self._keeper = asyncio.get_running_loop().create_task(self._keep())
        return claim

    async def feed(self, data: bytes) -> None:
        """Take the next chunk of the DJ's audio.

        Raises BroadcastTooFast once the audio has run too far ahead of real
        time; what ran over is not published, and the caller ends the
        broadcast.
        """
        if self._ingest is None:
            raise RuntimeError("Send a start message before audio.")
        self._last_input = asyncio.get_running_loop().time()
        self._check_pace()
        await self._ingest.feed(data)
        self._check_pace()

    def _check_pace(self) -> None:
        if self._too_fast:
            raise BroadcastTooFast(
                f"Station {self.station_id}: audio ran over the head start of "
                f"{self._settings.audio_head_start_s:g} s."
            )

    async def set_now_playing(self, *, title: str, artist: str) -> None:
        await self._producer.publish(
            now_playing_event(
                title=title, artist=artist, source=LIVE, seq=self._producer.next_seq
            )
        )

    async def _publish_audio(
        self, frames: bytes, duration_ms: float, ingest_ms: int
    ) -> None:
        if self._too_fast or not self._pace.allows(duration_ms):
            self._too_fast = True
            return
        seq = self._producer.next_seq
        published = await self._producer.publish_audio(frames, duration_ms, ingest_ms)
        if published and self.recorder is not None:
            self.recorder.record(seq, frames, duration_ms)

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when the broadcast ends or its connection
        leaves it (a DJ who resumes within the grace has a new Broadcast)."""
        self._end_callbacks.append(callback)

    def _ended(self) -> None:
        callbacks, self._end_callbacks = self._end_callbacks, []
        for callback in callbacks:
            callback()

    async def _keep(self) -> None:
        """Renew the lease; end the broadcast when the DJ goes quiet."""
        loop = asyncio.get_running_loop()

        def idle() -> bool:
            return loop.time() - self._last_input > self._settings.idle_timeout_s

        if await self._producer.hold(until=idle):
            await self._end_on_air()
            self._ended()
            self._on_lost("idle")
        else:
            await self._close_ingest()
            self.live = False
            await self._finish_recording()
            self._ended()
            self._on_lost(LEASE_LOST)

    async def stop(self) -> None:
        """End the broadcast now: the station goes off air."""
        await self._stop_keeper()
        await self._end_on_air()
        self._ended()

    async def suspend(self, *, flush: bool = False) -> None:
        """The DJ's connection dropped: end it only if they do not return.

        Audio still in the ingest is dropped, so that a DJ who resumes is
        heard at once, unless ``flush``: an encoder's socket that ended had
        its audio sent whole.
        """
        if not await self._let_go(flush=flush):
            return
        await asyncio.sleep(self._settings.reconnect_grace_s * 0.9)
        if await self._producer.renew(claim_back=False):
            await self._end_on_air()
        else:
            self.live = False
            await self._finish_recording()

    async def hand_over(self) -> None:
        """This process is stopping: leave the broadcast suspended for the
        DJ to resume in another one, and let go of it here.

        The station stays on air for the reconnect grace; if the DJ does not
        come back, another process ends it when the lease expires.
        """
        if await self._let_go(flush=False):
            self.live = False
            # The episode stays open for the process the DJ resumes in.
            self.recorder = None

    async def _let_go(self, *, flush: bool) -> bool:
        """Suspend the lease for the reconnect grace; False if not live."""
        await self._stop_keeper()
        self._ended()
        if not self.live:
            return False
        if flush:
            await self._close_ingest()
        try:
            # Saved before the DJ may resume, perhaps in another process;
            # what the ingest still emits as it closes is not recorded.
            if self.recorder is not None:
                await self.recorder.pause()
            # Suspended before ffmpeg is waited for, so that the DJ may
            # resume at once.
            await self._producer.suspend(grace_s=self._settings.reconnect_grace_s)
        finally:
            # The ingest (and its ffmpeg) goes whatever the bus or the
            # recorder did.
            await self._close_ingest(flush=False)
        return True

    async def _end_on_air(self) -> None:
        await self._close_ingest()
        if self.live:
            self.live = False
            await self._producer.end()
        await self._finish_recording()

    async def _finish_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            await recorder.finish()

    async def _close_ingest(self, *, flush: bool = True) -> None:
        ingest, self._ingest = self._ingest, None
        if ingest is not None:
            await ingest.aclose(flush=flush)

    async def _stop_keeper(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
