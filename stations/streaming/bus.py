"""How a station's output gets from its one producer to every process.

A producer (a live DJ or the AutoDJ) first claims the station's lease, so
that a station has exactly one producer at a time, then publishes packets
and events under it. A live DJ takes the station from the AutoDJ, and the
AutoDJ from a DJ whose connection dropped. Every process that has clients
of the station holds a :class:`StationHub` for it, fed by the bus.

:class:`LocalBus` is for one process; ``redis_bus.RedisBus`` is for many.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum

from .audience import Audience
from .hub import Cadence, StationHub, StationState, on_air_event
from .packets import AudioPacket, Event, now_ms

logger = logging.getLogger(__name__)

# How often listener counts are gathered and, if changed, announced.
DEFAULT_COUNT_INTERVAL_S = 1.0
# A held lease lives this long without renewal; renewed every third of it.
LEASE_TTL_S = 6.0
# How much of a station's latest output the bus keeps, for a process that
# starts serving the station: its burst, and a whole HLS window
# (hls.WINDOW_SEGMENTS of up to 2 s, the segment being made, and margin).
OUTPUT_KEEP_MS = 20_000
# The user id of leases the server holds itself (the AutoDJ, the janitor).
SERVER_USER_ID = 0

# What holds a lease (for LIVE and AUTODJ also the ``source`` of ``on_air``).
LIVE = "live"
AUTODJ = "autodj"
# The bus itself, ending a broadcast whose producer died.
JANITOR = "janitor"


class BusUnavailable(Exception):
    """The bus cannot reach what it shares stations through (Redis) now.

    Nothing is known of the lease or of what was published; the caller
    drops what it tried and carries on, and the bus reconnects by itself.
    """


class Claim(Enum):
    """The answer to a producer asking for a station."""

    REFUSED = "refused"
    GRANTED = "granted"
    # The same user's earlier broadcast was waiting to be picked up again.
    RESUMED = "resumed"


@dataclass(frozen=True)
class Lease:
    """The right to produce a station's output, held by one broadcast."""

    station_id: int
    token: str
    user_id: int
    kind: str = LIVE


def claim_answer(
    held: Lease | None, suspended: bool, wanted: Lease, *, holder_gone: bool = False
) -> Claim:
    """Whether ``wanted`` may take the station from ``held``.

    A live DJ takes it from the AutoDJ and resumes their own broadcast if it
    is suspended or ``holder_gone`` (the process that holds it has died, so
    nothing renews it: the DJ need not wait for it to expire); the AutoDJ
    takes it from a DJ whose connection dropped; the janitor only takes a
    free station. ``redis_bus.CLAIM_SCRIPT`` says the same in Lua.
    """
    if held is None:
        return Claim.GRANTED
    if wanted.kind == LIVE:
        own = held.kind == LIVE and held.user_id == wanted.user_id
        if own and (suspended or holder_gone):
            return Claim.RESUMED
        if held.kind == AUTODJ:
            return Claim.GRANTED
    if wanted.kind == AUTODJ and suspended:
        return Claim.GRANTED
    return Claim.REFUSED


class StationBus(ABC):
    """Leases, publishing and hubs for all stations, in one process."""

    def __init__(
        self,
        *,
        burst_seconds: float,
        count_interval_s: float = DEFAULT_COUNT_INTERVAL_S,
        cadence: Cadence | None = None,
    ) -> None:
        self.burst_seconds = burst_seconds
        self.cadence = cadence or Cadence()
        self._count_interval_s = count_interval_s
        self._hubs: dict[int, StationHub] = {}
        self._ticker: asyncio.Task | None = None
        self._observers: list[Callable[[int, Event], None]] = []

    # --- Hubs ---------------------------------------------------------------

    async def attach(self, station_id: int) -> StationHub:
        """The station's hub in this process, ready to take clients."""
        async with self._holding(station_id) as hub:
            return hub

    @contextlib.asynccontextmanager
    async def joining(self, station_id: int) -> AsyncIterator[StationHub]:
        """The station's hub, kept while a client joins it.

        A client may await (its chat history) between attaching and
        ``hub.join()``; the hub is not detached meanwhile, and is detached
        on the way out if the client never joined and nobody else is left.
        """
        try:
            async with self._holding(station_id) as hub:
                yield hub
        finally:
            await self.detach(station_id)

    @contextlib.asynccontextmanager
    async def _holding(self, station_id: int) -> AsyncIterator[StationHub]:
        """The station's hub, fed, and not detached until the block ends.

        The first of several attaching at once starts the feed; the others
        wait for that one start, so a station has one hub and one feed.
        """
        hub = self._hubs.get(station_id)
        if hub is None:
            hub = self._hubs[station_id] = StationHub(
                burst_seconds=self.burst_seconds, cadence=self.cadence
            )
            hub.feed_started = asyncio.ensure_future(self._start_feed(station_id, hub))
        hub.holds += 1
        try:
            try:
                await asyncio.shield(hub.feed_started)
            except Exception:
                if self._hubs.get(station_id) is hub:
                    del self._hubs[station_id]
                raise
            if self._ticker is None:
                loop = asyncio.get_running_loop()
                self._ticker = loop.create_task(self._count_forever())
            yield hub
        finally:
            hub.holds -= 1

    async def detach(self, station_id: int) -> None:
        """Called when a client of the station leaves this process."""
        hub = self._hubs.get(station_id)
        if hub is not None and not hub.has_clients and not self._keeps(station_id):
            del self._hubs[station_id]
            await self._stop_feed(station_id, hub)

    def _keeps(self, station_id: int) -> bool:
        """Whether the station's hub must stay without clients."""
        return False

    @property
    def available(self) -> bool:
        """False while the bus is known to be unable to reach other processes."""
        return True

    def hub(self, station_id: int) -> StationHub | None:
        return self._hubs.get(station_id)

    def hubs(self) -> dict[int, StationHub]:
        """The hubs of this process, by station id."""
        return dict(self._hubs)

    async def _count_forever(self) -> None:
        while True:
            await asyncio.sleep(self._count_interval_s)
            for station_id, hub in list(self._hubs.items()):
                try:
                    here = hub.local_audience
                    audience = await self._count_listeners(station_id, here)
                    hub.update_audience(audience, counted_here=here.count)
                    if hub.state.on_air:
                        await self._end_if_orphaned(station_id)
                except BusUnavailable:
                    break  # The bus has said so once; the next tick tries again.
                except Exception:
                    logger.exception("Could not look after station %s", station_id)

    async def _end_if_orphaned(self, station_id: int) -> bool:
        """Take a station off air if it is on air with nobody producing.

        That happens when the process of its producer dies: the lease
        expires, but nobody is left to say the station went off air.
        """
        janitor = Lease(
            station_id=station_id,
            token=uuid.uuid4().hex,
            user_id=SERVER_USER_ID,
            kind=JANITOR,
        )
        if await self.claim(janitor, ttl_s=LEASE_TTL_S) is Claim.GRANTED:
            logger.warning("Station %s had lost its producer; now off air", station_id)
            off_air = on_air_event(on_air=False, source=None)
            await self.publish(station_id, off_air, lease=janitor)
            await self.release(janitor)
            return True
        return False

    async def aclose(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        hubs, self._hubs = self._hubs, {}
        for station_id, hub in hubs.items():
            await self._stop_feed(station_id, hub)

    async def _start_feed(self, station_id: int, hub: StationHub) -> None:  # noqa: B027
        """Start bringing the station's output into ``hub``."""

    async def _stop_feed(self, station_id: int, hub: StationHub) -> None:  # noqa: B027
        """Stop bringing the station's output into ``hub``, if that costs."""

    @abstractmethod
    async def _count_listeners(
        self, station_id: int, here: Audience | None
    ) -> Audience:
        """The station's listeners in all processes.

        ``here`` is this process's audience of the station, if it has a hub.
        """

    async def listener_count(self, station_id: int) -> int:
        hub = self._hubs.get(station_id)
        if hub is not None:
            return hub.listener_estimate
        return (await self._count_listeners(station_id, None)).count

    # --- Producing ----------------------------------------------------------

    @abstractmethod
    async def claim(self, lease: Lease, *, ttl_s: float) -> Claim:
        """Take the station for ``lease`` as :func:`claim_answer` allows."""

    @abstractmethod
    async def renew(self, lease: Lease, *, ttl_s: float) -> bool:
        """Keep the station; False if the lease has been lost."""

    @abstractmethod
    async def suspend(self, lease: Lease, *, grace_s: float) -> None:
        """Let the same user take the station over for ``grace_s``."""

    @abstractmethod
    async def release(self, lease: Lease) -> bool:
        """Give the station up; False if ``lease`` no longer held it."""

    @abstractmethod
    async def last_seq(self, station_id: int) -> int | None:
        """The ``seq`` of the station's newest audio packet, if any."""

    @abstractmethod
    async def recent_output(
        self, station_id: int, *, after: str | None
    ) -> tuple[list[AudioPacket | Event], str | None]:
        """The station's output published after position ``after``, in order,
        and the position of the last of it.

        With ``after`` None: all of the last ``OUTPUT_KEEP_MS`` or so. For
        a reader that asks from time to time (HLS) rather than reads along.
        """

    async def publish(
        self, station_id: int, item: AudioPacket | Event, *, lease: Lease | None = None
    ) -> bool:
        """Send a packet or event to the station's listeners everywhere.

        Producers pass their ``lease``: the item is sent only while it holds
        the station, else False is returned. Without one (chat, moderation)
        it is always sent. Events sent are then shown to the observers.
        """
        sent = await self._send(station_id, item, lease=lease)
        if sent and isinstance(item, Event):
            for observer in self._observers:
                try:
                    observer(station_id, item)
                except Exception:
                    logger.exception("An observer of station %s failed", station_id)
        return sent

    def observe(self, observer: Callable[[int, Event], None]) -> None:
        """Call ``observer(station_id, event)`` for every event published here.

        Each event is published by one process, so across processes an
        observer sees it once. Observers run on the publisher's path: they
        must return at once (start a task for anything slow).
        """
        self._observers.append(observer)

    @abstractmethod
    async def _send(
        self, station_id: int, item: AudioPacket | Event, *, lease: Lease | None
    ) -> bool:
        """Send ``item`` everywhere if ``lease`` (when given) holds the station."""

    @abstractmethod
    async def state(self, station_id: int) -> dict:
        """The station's ``on_air``, ``source`` and ``now_playing``."""


class LocalBus(StationBus):
    """Everything in this process: the embedded, single-process default."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._leases: dict[int, tuple[Lease, bool, float]] = {}
        # Each station's recent output: (position, published at ms, item).
        self._output: dict[int, deque[tuple[int, int, AudioPacket | Event]]] = {}
        self._positions = itertools.count(1)
        # Each station's last seq, kept while its hub comes and goes, so
        # that a new producer numbers on rather than from 1.
        self._last_seqs: dict[int, int] = {}

    async def _count_listeners(
        self, station_id: int, here: Audience | None
    ) -> Audience:
        return here if here is not None else Audience()

    def _keeps(self, station_id: int) -> bool:
        # The hub is where this bus keeps the station's state: it stays
        # while a producer holds the station, or the state would be lost.
        return self._current(station_id) is not None

    def _current(self, station_id: int) -> tuple[Lease, bool] | None:
        held = self._leases.get(station_id)
        if held is None:
            return None
        lease, suspended, expires = held
        if expires < asyncio.get_running_loop().time():
            del self._leases[station_id]
            return None
        return lease, suspended

    def _hold(self, lease: Lease, *, suspended: bool, ttl_s: float) -> None:
        expires = asyncio.get_running_loop().time() + ttl_s
        self._leases[lease.station_id] = (lease, suspended, expires)

    async def claim(self, lease: Lease, *, ttl_s: float) -> Claim:
        held, suspended = self._current(lease.station_id) or (None, False)
        answer = claim_answer(held, suspended, lease)
        if answer is not Claim.REFUSED:
            self._hold(lease, suspended=False, ttl_s=ttl_s)
        return answer

    async def renew(self, lease: Lease, *, ttl_s: float) -> bool:
        current = self._current(lease.station_id)
        if current is None or current[0] != lease:
            return False
        self._hold(lease, suspended=current[1], ttl_s=ttl_s)
        return True

    async def suspend(self, lease: Lease, *, grace_s: float) -> None:
        current = self._current(lease.station_id)
        if current is not None and current[0] == lease:
            self._hold(lease, suspended=True, ttl_s=grace_s)

    async def release(self, lease: Lease) -> bool:
        current = self._current(lease.station_id)
        if current is None or current[0] != lease:
            return False
        del self._leases[lease.station_id]
        return True

    async def last_seq(self, station_id: int) -> int | None:
        return self._last_seqs.get(station_id)

    async def _send(
        self, station_id: int, item: AudioPacket | Event, *, lease: Lease | None
    ) -> bool:
        if lease is not None:
            current = self._current(station_id)
            if current is None or current[0] != lease:
                return False
        (await self.attach(station_id)).publish(item)
        self._keep(station_id, item)
        return True

    def _keep(self, station_id: int, item: AudioPacket | Event) -> None:
        if isinstance(item, AudioPacket):
            self._last_seqs[station_id] = item.seq
        output = self._output.setdefault(station_id, deque())
        now = now_ms()
        output.append((next(self._positions), now, item))
        while output[0][1] < now - OUTPUT_KEEP_MS:
            output.popleft()

    async def recent_output(
        self, station_id: int, *, after: str | None
    ) -> tuple[list[AudioPacket | Event], str | None]:
        kept = self._output.get(station_id, ())
        since = int(after) if after is not None else 0
        newer = [(position, item) for position, _, item in kept if position > since]
        if not newer:
            return [], after
        return [item for _, item in newer], str(newer[-1][0])

    async def state(self, station_id: int) -> dict:
        hub = self._hubs.get(station_id)
        return hub.state.as_dict() if hub else StationState().as_dict()
