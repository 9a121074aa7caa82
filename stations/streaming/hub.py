"""One station's output inside one server process.

The hub is where the station's packets and events arrive (from the local
producer or from Redis) and where they leave, once per local listener. It
keeps what a joining listener needs: the station's state for ``hello`` and
the burst of recent audio.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from radio.protocol import LISTENERS, MAX_LISTED_USERS, NOW_PLAYING, ON_AIR, SCHEDULE

from .audience import Audience, Listener
from .burst import BurstBuffer
from .packets import AudioBatch, AudioPacket, Event

logger = logging.getLogger(__name__)

# Events a hub remembers for clients that join while they happen.
RECENT_EVENTS = 64
# The most audio one write to a listener carries: twice the longest usual
# period, so that a turn's audio is one write unless it is a backlog.
MAX_BATCH_MS = 1000


def on_air_event(
    *, on_air: bool, source: str | None, broadcast: dict[str, Any] | None = None
) -> Event:
    """The station going on or off air; a live DJ's ``broadcast`` says who
    and what (``broadcast.describe``)."""
    return Event.build(
        {"type": ON_AIR, "on_air": on_air, "source": source, "broadcast": broadcast}
    )


def now_playing_event(
    *, title: str, artist: str, source: str, seq: int, is_request: bool | None = None
) -> Event:
    """What is playing from the audio packet ``seq`` on.

    The AutoDJ says ``is_request``: whether a listener requested the track.
    """
    data = {
        "type": NOW_PLAYING,
        "title": title,
        "artist": artist,
        "source": source,
        "started_at": datetime.now(UTC).isoformat(),
        "seq": seq,
    }
    if is_request is not None:
        data["is_request"] = is_request
    return Event.build(data)


@dataclass
class StationState:
    """What is on air; changed only by the station's events."""

    on_air: bool = False
    source: str | None = None
    broadcast: dict[str, Any] | None = None
    now_playing: dict[str, Any] | None = None
    # The shows on now and next (``schedule`` messages), for ``hello``.
    schedule: dict[str, Any] = field(
        default_factory=lambda: {"now": None, "next": None}
    )

    def apply(self, event: Event) -> None:
        if event.type == ON_AIR:
            self.on_air = event.data["on_air"]
            self.source = event.data["source"]
            self.broadcast = event.data["broadcast"]
            # Off air, or another producer's turn: its titles come after.
            self.now_playing = None
        elif event.type == NOW_PLAYING:
            self.now_playing = {
                key: event.data[key]
                for key in ("title", "artist", "source", "started_at", "seq")
            }
            if "is_request" in event.data:
                self.now_playing["is_request"] = event.data["is_request"]
        elif event.type == SCHEDULE:
            self.schedule = {"now": event.data["now"], "next": event.data["next"]}

    def as_dict(self) -> dict[str, Any]:
        return {
            "on_air": self.on_air,
            "source": self.source,
            "broadcast": self.broadcast,
            "now_playing": self.now_playing,
        }


@dataclass(frozen=True)
class Cadence:
    """How often a hub writes audio to each listener.

    Each write costs the worker about the same whatever its size, so with
    ``from_listeners`` or more listeners (0: never) each listener is written
    once per period, whatever the source's packets: the listeners are in
    ``groups`` that take turns, each getting everything published since its
    last turn, the turns spread evenly over the period, so that no write
    waits behind a fan-out to everyone. The period is ``batch_ms``, or
    longer where the listeners are so many that the worker would write
    more than ``writes_per_second`` (0: no such bound). With fewer
    listeners each packet goes out as it comes, which keeps them closest
    to live.
    """

    from_listeners: int = 0
    batch_ms: float = 0.0
    writes_per_second: float = 0.0
    groups: int = 32

    def period_ms(self, listeners: int) -> float:
        """How often each of ``listeners`` is written to, in milliseconds."""
        if not self.writes_per_second:
            return self.batch_ms
        return max(self.batch_ms, listeners * 1000 / self.writes_per_second)


@dataclass
class StationHub:
    """Fans a station's output out to the listeners of this process."""

    burst_seconds: float
    cadence: Cadence = field(default_factory=Cadence)
    state: StationState = field(default_factory=StationState)
    audience: Audience = field(default_factory=Audience)
    last_seq: int | None = None

    def __post_init__(self) -> None:
        self.burst = BurstBuffer(self.burst_seconds)
        self._listeners: set[Listener] = set()
        # The counted listeners among them, and how many of them are each
        # signed-in user: kept as they come and go, since a crowd is counted
        # every second.
        self._local_count = 0
        self._local_users: Counter[str] = Counter()
        # This process's share of audience.count when it was last counted.
        self._counted_here = 0
        self._recent_events: deque[Event] = deque(maxlen=RECENT_EVENTS)
        self.events_published = 0
        # Set by each ``schedule`` event, for the worker's schedule watcher.
        self.schedule_changed = asyncio.Event()
        # Kept by the bus: clients attaching or joining right now, and the
        # start of the feed they wait for (``StationBus.joining``).
        self.holds = 0
        self.feed_started: asyncio.Future | None = None
        # The listeners in the cadence's groups, and for each group how many
        # of the packets published it has been written. ``_unwritten`` holds
        # the packets some group has not been written yet.
        self._groups: list[set[Listener]] = [set() for _ in range(self.cadence.groups)]
        self._written = [0] * self.cadence.groups
        self._published = 0
        self._unwritten: deque[AudioPacket] = deque()
        self._next_group = 0
        self._turn = 0
        self._next_turn: asyncio.TimerHandle | None = None
        # The latest listener count and names, and the groups not yet told.
        self._audience_news: tuple[Event, Event] | None = None
        self._audience_due: set[int] = set()

    @property
    def local_count(self) -> int:
        return self._local_count

    @property
    def local_audience(self) -> Audience:
        return Audience(count=self._local_count, users=frozenset(self._local_users))

    @property
    def listener_estimate(self) -> int:
        """The listener count now: the last total, corrected for this process."""
        return self.audience.count - self._counted_here + self.local_count

    @property
    def has_clients(self) -> bool:
        """Whether anyone listens here or is attaching or joining."""
        return bool(self._listeners) or self.holds > 0

    @property
    def client_count(self) -> int:
        """Listeners and DJs' consoles of this process."""
        return len(self._listeners)

    def join(self, listener: Listener) -> None:
        """Add a listener and give it the burst, with no gap and no repeat.

        Must be called without awaiting between building the listener's
        ``hello`` and this call, so that nothing published in between is lost.
        The burst ends where the listener's group has been written; what the
        group waits for comes on its next turn.
        """
        group = self._next_group
        self._next_group = (group + 1) % len(self._groups)
        if self.state.on_air and (burst := self.burst.snapshot()):
            waiting = self._published - self._written[group]
            burst = burst[: max(len(burst) - waiting, 0)]
            if burst:
                listener.deliver_burst(AudioBatch(tuple(burst)))
        self._listeners.add(listener)
        self._groups[group].add(listener)
        if listener.counted:
            self._local_count += 1
            if listener.username:
                self._local_users[listener.username] += 1

    def leave(self, listener: Listener) -> None:
        if listener not in self._listeners:
            return
        self._listeners.remove(listener)
        for group in self._groups:
            group.discard(listener)
        if listener.counted:
            self._local_count -= 1
            if listener.username:
                self._local_users[listener.username] -= 1
                if not self._local_users[listener.username]:
                    del self._local_users[listener.username]

    def publish(self, item: AudioPacket | Event) -> None:
        if isinstance(item, AudioPacket):
            self._publish_audio(item)
        else:
            self._publish_event(item)

    def _publish_audio(self, packet: AudioPacket) -> None:
        self.last_seq = packet.seq
        self.burst.append(packet)
        self._unwritten.append(packet)
        self._published += 1
        cadence = self.cadence
        if cadence.from_listeners and len(self._listeners) >= cadence.from_listeners:
            if self._next_turn is None:
                self._take_turns()
        else:
            self._write_all()

    def _take_turns(self) -> None:
        """Write the group whose turn it is, and time the next turn while any
        group waits (a source that pauses does not hold what it sent)."""
        self._next_turn = None
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._write_group(self._turn)
        self._turn = (self._turn + 1) % len(self._groups)
        if min(self._written) < self._published or self._audience_due:
            period_s = self.cadence.period_ms(len(self._listeners)) / 1000
            # Timed from this turn's start: a turn's own writes must not
            # stretch the period.
            self._next_turn = loop.call_at(
                started + period_s / len(self._groups), self._take_turns
            )

    def _write_all(self) -> None:
        """Write every group all it waits for; groups equally behind share
        the batches."""
        if self._next_turn is not None:
            self._next_turn.cancel()
            self._next_turn = None
        made: dict[int, list[AudioBatch]] = {}
        for group in range(len(self._groups)):
            self._write_group(group, made)

    def _write_group(
        self, group: int, made: dict[int, list[AudioBatch]] | None = None
    ) -> None:
        listeners = tuple(self._groups[group])
        news = group in self._audience_due
        self._audience_due.discard(group)
        waiting = self._published - self._written[group]
        if not waiting:
            if news:
                self._tell_audience(listeners)
            return
        batches = made.get(waiting) if made is not None else None
        if batches is None:
            first = len(self._unwritten) - waiting
            batches = batched(itertools.islice(self._unwritten, first, None))
            if made is not None:
                made[waiting] = batches
        self._written[group] = self._published
        first, *rest = batches
        if news:
            # A new count rides in the same write as the audio: with many
            # listeners it changes every second, which would be as many
            # writes again.
            for listener in listeners:
                listener.deliver_audio(first, self._audience_event(listener))
        else:
            for listener in listeners:
                listener.deliver_audio(first)
        for batch in rest:
            for listener in listeners:
                listener.deliver_audio(batch)
        # Packets every group has been written are no longer kept here.
        for _ in range(len(self._unwritten) - (self._published - min(self._written))):
            self._unwritten.popleft()

    def events_since(self, mark: int) -> list[Event]:
        """The events published since ``events_published`` was ``mark``.

        For a client that read something slow (its chat history) before it
        joined, and may have missed events meanwhile.
        """
        missed = self.events_published - mark
        return list(self._recent_events)[-missed:] if missed > 0 else []

    def _publish_event(self, event: Event) -> None:
        if event.type == ON_AIR:
            # The old producer's audio reaches everyone before the change:
            # players start afresh on the new one's.
            self._write_all()
        self._recent_events.append(event)
        self.events_published += 1
        self.state.apply(event)
        if event.type == SCHEDULE:
            self.schedule_changed.set()
        if event.type == ON_AIR and not event.data["on_air"]:
            self.burst.clear()
        for listener in tuple(self._listeners):
            listener.deliver_event(event)

    def update_audience(self, audience: Audience, *, counted_here: int) -> None:
        """Tell everyone the new listener count, and DJs the names, if changed.

        ``counted_here`` is this process's share of ``audience.count``.
        """
        self._counted_here = counted_here
        if audience == self.audience:
            return
        self.audience = audience
        self._audience_news = (
            Event.build({"type": LISTENERS, "count": audience.count}),
            Event.build(listeners_with_users(audience)),
        )
        if self._next_turn is None:
            self._audience_due.clear()
            self._tell_audience(tuple(self._listeners))
        else:
            # A crowd hears it on its groups' turns: told all at once, the
            # count would hold the audio back as long as a fan-out takes.
            self._audience_due = set(range(len(self._groups)))

    def _tell_audience(self, listeners: Iterable[Listener]) -> None:
        for listener in listeners:
            listener.deliver_event(self._audience_event(listener))

    def _audience_event(self, listener: Listener) -> Event:
        count, with_users = self._audience_news
        return listener.audience_event(count=count, with_users=with_users)


def batched(packets: Iterable[AudioPacket]) -> list[AudioBatch]:
    """``packets`` in batches of at most MAX_BATCH_MS of audio (at least a
    packet each): a worker that catches up after a stall writes its backlog
    to each listener a batch at a time, each only while the listener takes
    writes (flow control), rather than all of it at once."""
    batches: list[AudioBatch] = []
    current: list[AudioPacket] = []
    current_ms = 0.0
    for packet in packets:
        if current and current_ms + packet.duration_ms > MAX_BATCH_MS:
            batches.append(AudioBatch(tuple(current)))
            current, current_ms = [], 0.0
        current.append(packet)
        current_ms += packet.duration_ms
    if current:
        batches.append(AudioBatch(tuple(current)))
    return batches


def listeners_with_users(audience: Audience) -> dict:
    """The ``listeners`` message as DJs get it: the count and who is signed in."""
    users = sorted(audience.users)[:MAX_LISTED_USERS]
    return {"type": LISTENERS, "count": audience.count, "users": users}
