"""``/api/live/nowplaying/<slug>``: a station's NowPlaying object pushed as
Server-Sent Events, at connect and on every change (title, live, listeners).

A worker holds one feed per station it streams to: the feed joins the
station's hub like a listener that takes no audio, builds the object once
per change and hands the text to every stream of that station here, so a
change costs one build per worker whatever the number of widgets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from radio.protocol import LISTENERS, NOW_PLAYING, ON_AIR
from stations.models import Station
from stations.runtime import get_bus
from stations.streaming.packets import AudioBatch, Event

from .nowplaying import Site, anowplaying, anowplaying_fresh

logger = logging.getLogger(__name__)

KEEP_ALIVE = ": keep-alive\n\n"


def sse_message(nowplaying: dict[str, Any]) -> str:
    return f"data: {json.dumps(nowplaying, separators=(',', ':'))}\n\n"


class Stream:
    """One SSE client: the latest message it has not been sent yet."""

    def __init__(self) -> None:
        self.latest: str | None = None
        self.ready = asyncio.Event()

    def put(self, message: str) -> None:
        # A client that reads slowly skips to the newest object.
        self.latest = message
        self.ready.set()

    def take(self) -> str | None:
        self.ready.clear()
        message, self.latest = self.latest, None
        return message


class NowPlayingFeed:
    """A station's NowPlaying object in this worker, for its SSE streams.

    Joins the hub as a listener (``Listener``'s delivery methods) that is not
    counted and takes no audio.
    """

    counted = False
    username = None

    def __init__(self, station: Station, site: Site) -> None:
        self.station = station
        self.site = site
        self.streams: set[Stream] = set()
        self.latest: str | None = None
        self._building: asyncio.Task | None = None
        self._changed_while_building = False

    def deliver_audio(self, batch: AudioBatch, lead: Event | None = None) -> None:
        if lead is not None:
            self.deliver_event(lead)

    def deliver_burst(self, burst: AudioBatch) -> None:
        pass

    def deliver_event(self, event: Event) -> None:
        if event.type in (NOW_PLAYING, ON_AIR, LISTENERS):
            self.changed()

    def audience_event(self, *, count: Event, with_users: Event) -> Event:
        return count

    def changed(self) -> None:
        """Build the object again, once, and send it to every stream."""
        if self._building and not self._building.done():
            self._changed_while_building = True
            return
        self._building = asyncio.get_running_loop().create_task(self._build())

    async def _build(self) -> None:
        while True:
            self._changed_while_building = False
            try:
                built = await anowplaying_fresh(self.station, get_bus(), self.site)
            except Exception:
                logger.exception(
                    "Could not build station %s's now playing", self.station.pk
                )
                return
            self.latest = sse_message(built)
            for stream in self.streams:
                stream.put(self.latest)
            if not self._changed_while_building:
                return


# (station id, origin) -> the feed of this worker.
_feeds: dict[tuple[int, str], NowPlayingFeed] = {}


async def asubscribe(station: Station, site: Site) -> tuple[NowPlayingFeed, Stream]:
    """A new stream of the station's feed, with the object now in it."""
    key = (station.pk, site.origin)
    feed = _feeds.get(key)
    if feed is None:
        feed = _feeds[key] = NowPlayingFeed(station, site)
        hub = await get_bus().attach(station.pk)
        hub.join(feed)
    stream = Stream()
    feed.streams.add(stream)
    stream.put(
        feed.latest or sse_message(await anowplaying(station.slug, get_bus(), site))
    )
    return feed, stream


async def aunsubscribe(feed: NowPlayingFeed, stream: Stream) -> None:
    """Remove ``stream``; the feed leaves the hub with its last stream."""
    feed.streams.discard(stream)
    key = (feed.station.pk, feed.site.origin)
    if feed.streams or _feeds.get(key) is not feed:
        return
    del _feeds[key]
    bus = get_bus()
    hub = bus.hub(feed.station.pk)
    if hub is not None:
        hub.leave(feed)
    await bus.detach(feed.station.pk)


async def nowplaying_events(station: Station, site: Site) -> AsyncIterator[str]:
    """The SSE body: the object now, then on each change, with keep-alive
    comments while nothing changes; leaves the feed when the client goes."""
    feed, stream = await asubscribe(station, site)
    try:
        while True:
            try:
                async with asyncio.timeout(settings.RADIO_API_SSE_KEEPALIVE_SECONDS):
                    await stream.ready.wait()
            except TimeoutError:
                yield KEEP_ALIVE
                continue
            if (message := stream.take()) is not None:
                yield message
    finally:
        await aunsubscribe(feed, stream)
