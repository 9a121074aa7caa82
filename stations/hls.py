"""``/stations/<slug>/hls/``: the station as HLS, for players that want it.

Every worker cuts the same segments from the station's recent output on the
bus (``streaming.hls``), read when a request finds it older than
``REFRESH_S``: a worker needs no listener of the station, and its cost grows
with the stations asked for, not with the clients asking.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .runtime import get_bus
from .selectors import astation_get
from .streaming.bus import OUTPUT_KEEP_MS, BusUnavailable, StationBus
from .streaming.hls import PLAYLIST_NAME, Segmenter, playlist

# A playlist or segment request reads the bus if the station's segments
# were brought up to date longer ago than this: a quarter of a segment.
REFRESH_S = 0.5
# Segments not brought up to date for this long start over: the output
# they would read on from is gone from the bus.
STALE_AFTER_S = OUTPUT_KEEP_MS / 1000 / 2
# A station's slug is looked up in the database this often, not per request.
STATION_CACHE_S = 10.0
# Players reload the playlist every segment or so; a CDN may keep it this
# long. Segments never change.
PLAYLIST_CACHE_CONTROL = b"public, max-age=1"
SEGMENT_CACHE_CONTROL = b"public, max-age=86400, immutable"
PLAYLIST_TYPE = b"application/vnd.apple.mpegurl"
SEGMENT_TYPE = b"audio/mpeg"


def hls_path(slug: str) -> str:
    """The path of a station's HLS playlist (routed by ``stations.routing``)."""
    return f"/stations/{slug}/hls/{PLAYLIST_NAME}"


@dataclass
class StationSegments:
    """One station's segments in this worker, and its playlist."""

    segmenter: Segmenter = field(default_factory=Segmenter)
    playlist: bytes = b""
    # Where on the bus the output was read up to, and when (monotonic).
    position: str | None = None
    refreshed_at: float = -float("inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(
        self, bus: StationBus, station_id: int, *, every_s: float = REFRESH_S
    ) -> None:
        """Read the output published since the last refresh, if due.

        Requests that find it due at once share one read. Without the bus
        (Redis away) the segments stay as they are.
        """
        due_at = time.monotonic()
        if due_at - self.refreshed_at < every_s:
            return
        async with self.lock:
            if self.refreshed_at > due_at - every_s:
                return
            try:
                items, position = await bus.recent_output(
                    station_id, after=self.position
                )
            except BusUnavailable:
                return
            self.segmenter.feed(items)
            self.position = position
            self.playlist = playlist(self.segmenter.segments).encode()
            self.refreshed_at = time.monotonic()


@dataclass
class Served:
    """What this worker keeps for HLS, with its bus (one per event loop)."""

    # slug → (station id, when looked up, monotonic).
    station_ids: dict[str, tuple[int, float]] = field(default_factory=dict)
    segments: dict[int, StationSegments] = field(default_factory=dict)

    async def station_id(self, slug: str) -> int | None:
        known = self.station_ids.get(slug)
        if known is not None and time.monotonic() - known[1] < STATION_CACHE_S:
            return known[0]
        station = await astation_get(slug)
        if station is None:
            self.station_ids.pop(slug, None)
            return None
        self.station_ids[slug] = (station.pk, time.monotonic())
        return station.pk

    async def up_to_date(self, bus: StationBus, station_id: int) -> StationSegments:
        """The station's segments, read on from the bus if due."""
        segments = self.segments.get(station_id)
        if segments is None or time.monotonic() - segments.refreshed_at > STALE_AFTER_S:
            segments = self.segments[station_id] = StationSegments()
        await segments.refresh(bus, station_id)
        return segments


_served: weakref.WeakKeyDictionary[StationBus, Served] = weakref.WeakKeyDictionary()


async def station_hls(scope: dict[str, Any], receive, send) -> None:
    """Serve a station's HLS playlist or one of its segments."""
    if scope["method"] not in ("GET", "HEAD"):
        await _respond(send, scope, 405, b"text/plain", b"Use GET.\n")
        return
    bus = get_bus()
    served = _served.setdefault(bus, Served())
    kwargs = scope["url_route"]["kwargs"]
    station_id = await served.station_id(kwargs["slug"])
    if station_id is None:
        await _respond(send, scope, 404, b"text/plain", b"No such station.\n")
        return
    segments = await served.up_to_date(bus, station_id)
    name = kwargs["name"]
    if name == PLAYLIST_NAME:
        await _respond(
            send, scope, 200, PLAYLIST_TYPE, segments.playlist, PLAYLIST_CACHE_CONTROL
        )
        return
    segment = segments.segmenter.segment(name)
    if segment is None and segments.segmenter.may_come(name):
        await segments.refresh(bus, station_id, every_s=0)
        segment = segments.segmenter.segment(name)
    if segment is None:
        await _respond(send, scope, 404, b"text/plain", b"No such segment.\n")
        return
    await _respond(send, scope, 200, SEGMENT_TYPE, segment.data, SEGMENT_CACHE_CONTROL)


async def _respond(
    send,
    scope: dict[str, Any],
    status: int,
    content_type: bytes,
    body: bytes,
    cache_control: bytes = b"no-cache",
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", cache_control),
        # Players on other sites fetch these too.
        (b"access-control-allow-origin", b"*"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if scope["method"] == "HEAD":
        body = b""
    await send({"type": "http.response.body", "body": body})
