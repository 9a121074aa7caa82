"""``/stations/<slug>/stream.mp3``: the station for any ordinary player.

A plain ASGI application rather than an ``AsyncHttpConsumer``: the response
never ends by itself, and the client's disconnect must be noticed while it
is being written.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.conf import settings

from radio import shutdown
from radio.middleware import SERVER_SEND, scope_header

from .rooms import astation_full, join_station, leave_station
from .selectors import astation_get
from .statistics.models import Transport as SessionTransport
from .statistics.recorder import visit_from_scope
from .streaming.audience import HttpStreamListener, stream_title
from .streaming.icy import ICY_METAINT_BYTES, IcyInterleaver
from .streaming.transport import http_body_transport

# What a player refused by a full station is told to wait, in seconds.
FULL_RETRY_AFTER_S = 30


def stream_path(slug: str) -> str:
    """The path of a station's ``stream.mp3`` (routed by ``stations.routing``)."""
    return f"/stations/{slug}/stream.mp3"


async def station_stream(scope: dict[str, Any], receive, send) -> None:
    """Serve a station as an endless MP3 response, Icecast-style."""
    if scope["method"] not in ("GET", "HEAD"):
        await _plain_response(send, 405, b"Use GET.\n", ((b"allow", b"GET, HEAD"),))
        return
    station = await astation_get(scope["url_route"]["kwargs"]["slug"])
    if station is None:
        await _plain_response(send, 404, b"No such station.\n")
        return
    if await astation_full(station):
        retry_after = (b"retry-after", str(FULL_RETRY_AFTER_S).encode())
        await _plain_response(send, 503, b"The station is full.\n", (retry_after,))
        return
    wants_icy = scope_header(scope, b"icy-metadata") == b"1"
    headers = [
        (b"content-type", b"audio/mpeg"),
        (b"cache-control", b"no-cache, no-store"),
        (b"icy-name", station.name.encode()),
        (b"icy-br", str(station.bitrate).encode()),
        (b"icy-pub", b"0"),
    ]
    if wants_icy:
        headers.append((b"icy-metaint", str(ICY_METAINT_BYTES).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return

    # Set when the response is to end: the client is too slow, or the
    # worker is stopping (the player reconnects, to another worker).
    ending = asyncio.Event()
    listener = await join_station(
        station,
        lambda hub: HttpStreamListener(
            http_body_transport(scope[SERVER_SEND]),
            max_stall_s=settings.RADIO_LISTENER_MAX_STALL_SECONDS,
            on_too_slow=ending.set,
            icy=IcyInterleaver() if wants_icy else None,
            title=stream_title(hub.state.now_playing),
        ),
        visit=visit_from_scope(
            scope, station_id=station.pk, transport=SessionTransport.HTTP
        ),
    )

    async def end_for_restart() -> None:
        ending.set()

    shutdown.track(ending, end_for_restart)
    try:
        await _until_disconnected_or(receive, ending)
    finally:
        await leave_station(station, listener)
        shutdown.forget(ending)
    if ending.is_set():
        await send({"type": "http.response.body", "body": b""})


async def _until_disconnected_or(receive, event: asyncio.Event) -> None:
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waiters = [
        asyncio.ensure_future(disconnected()),
        asyncio.ensure_future(event.wait()),
    ]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter


async def _plain_response(
    send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
