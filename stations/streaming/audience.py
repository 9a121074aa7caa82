"""Who listens: the clients of a station's output and the rule for slow ones.

A listener that is not keeping up (its transport is not writable) skips
audio: it resumes later at a newer packet, which still starts on an MP3
frame boundary, and sees the gap in ``seq``. Events (chat, counts, titles)
are not skipped: they wait, in order, until it takes writes again. One that
has not caught up for ``max_stall_s``, or with more than ``MAX_HELD_EVENTS``
events waiting, is given up on, and its connection is closed (4408).
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from radio.protocol import NOW_PLAYING

from .icy import IcyInterleaver
from .packets import AudioBatch, Event
from .transport import Transport

# Events held for a listener that is not taking writes; a few minutes of a
# busy chat. Past this it is given up on.
MAX_HELD_EVENTS = 256


@dataclass(frozen=True)
class Audience:
    """Who listens to a station, on every worker."""

    count: int = 0
    # Usernames of the signed-in listeners (for the DJs' shout-outs).
    users: frozenset[str] = frozenset()


class Listener:
    """A WebSocket client that gets the audio messages and the events."""

    counted = True

    def __init__(
        self,
        transport: Transport,
        *,
        max_stall_s: float,
        on_too_slow: Callable[[], None],
        username: str | None = None,
    ) -> None:
        self.transport = transport
        self.username = username
        self.skipped = 0
        self._max_stall_s = max_stall_s
        self._on_too_slow = on_too_slow
        self._stalled_since: float | None = None
        self._given_up = False
        # Events waiting for the transport to take writes; made when needed,
        # since most listeners never need it.
        self._held_events: deque[Event] | None = None

    def deliver_audio(self, batch: AudioBatch, lead: Event | None = None) -> None:
        """Write ``batch``, after the event ``lead`` if any, in one write."""
        # The hot path: a method call less for the listeners with nothing held.
        if self.transport.writable and (
            self._held_events is None or self._write_held_events()
        ):
            self._stalled_since = None
            self.write_audio(batch, lead)
            return
        if lead is not None:
            self.deliver_event(lead)
        self.skipped += len(batch.packets)
        self._stalled()

    def _stalled(self) -> None:
        now = time.monotonic()
        if self._stalled_since is None:
            self._stalled_since = now
        elif now - self._stalled_since > self._max_stall_s:
            self._give_up()

    def _give_up(self) -> None:
        if not self._given_up:
            self._given_up = True
            self._on_too_slow()

    def deliver_burst(self, burst: AudioBatch) -> None:
        """Give a joining listener the whole burst, writable or not.

        The burst is bounded, and a player needs all of it to start at once;
        at high bitrates it is more than a transport takes before pausing.
        """
        self.write_audio(burst)

    def deliver_event(self, event: Event) -> None:
        if self._held_events is None and self.transport.writable:
            self.transport.send_text(event.text)
            return
        if self._held_events is None:
            self._held_events = deque()
        self._held_events.append(event)
        if len(self._held_events) > MAX_HELD_EVENTS:
            self._give_up()
        elif not self._write_held_events():
            self._stalled()

    def _write_held_events(self) -> bool:
        """Write held events while the transport takes them; True once none wait."""
        held = self._held_events
        if held is None:
            return True
        while held and self.transport.writable:
            self.transport.send_text(held.popleft().text)
        if held:
            return False
        self._held_events = None
        return True

    def audience_event(self, *, count: Event, with_users: Event) -> Event:
        """Which message of a new listener count this listener gets: only
        DJs see the names."""
        return count

    def write_audio(self, batch: AudioBatch, lead: Event | None = None) -> None:
        self.transport.send_audio(batch, lead.text if lead is not None else None)


class ControlListener(Listener):
    """A DJ's console: the station's events without its audio."""

    counted = False

    def write_audio(self, batch: AudioBatch, lead: Event | None = None) -> None:
        if lead is not None:
            self.transport.send_text(lead.text)

    def audience_event(self, *, count: Event, with_users: Event) -> Event:
        return with_users


class HttpStreamListener(Listener):
    """A plain HTTP MP3 player, optionally with ICY in-band titles."""

    def __init__(
        self,
        transport: Transport,
        *,
        max_stall_s: float,
        on_too_slow: Callable[[], None],
        icy: IcyInterleaver | None,
        title: str,
    ) -> None:
        super().__init__(transport, max_stall_s=max_stall_s, on_too_slow=on_too_slow)
        self._icy = icy
        self._title = title
        self._pending_titles: list[tuple[int, str]] = []

    def deliver_event(self, event: Event) -> None:
        if event.type == NOW_PLAYING and self._icy is not None:
            self._pending_titles.append((event.data["seq"], stream_title(event.data)))

    def write_audio(self, batch: AudioBatch, lead: Event | None = None) -> None:
        # ``lead`` is never a title (only counts lead audio): nothing to show.
        if self._icy is None:
            self.transport.send_binary(mp3_of(batch))
            return
        chunks = []
        for packet in batch.packets:
            while self._pending_titles and self._pending_titles[0][0] <= packet.seq:
                self._title = self._pending_titles.pop(0)[1]
            chunks.append(self._icy.feed(bytes(packet.frames), self._title))
        self.transport.send_binary(b"".join(chunks))


@functools.lru_cache(maxsize=4)
def mp3_of(batch: AudioBatch) -> bytes:
    """The batch's MP3 frames without headers, joined once for every listener."""
    return b"".join(packet.frames for packet in batch.packets)


def stream_title(now_playing: dict | None) -> str:
    """``Artist - Title`` as players show it, or just the title."""
    if not now_playing:
        return ""
    title = now_playing.get("title") or ""
    artist = now_playing.get("artist") or ""
    return f"{artist} - {title}" if artist and title else title or artist


def title_and_artist(song: str) -> tuple[str, str]:
    """``Artist - Title`` read back into title and artist: the reverse of
    :func:`stream_title`. Without both sides of " - " it is all title."""
    artist, dash, title = song.partition(" - ")
    if dash and artist and title:
        return title, artist
    return song, ""
