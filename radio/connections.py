"""How many connections one client address may hold open in one worker.

WebSockets and ``stream.mp3`` responses count, RADIO_MAX_CONNECTIONS_PER_IP
at most per address (an IPv6 address's /64) and worker; 0 lifts the cap.
One more is refused: a WebSocket is accepted, then closed with 4429 (as
every refusal of the protocol is sent), an HTTP stream answered 429 with
Retry-After. The address is ``scope["client"]``: daphne's socket peer, or
the proxy's ``X-Forwarded-For`` when daphne runs with ``--proxy-headers``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from typing import Any

from django.conf import settings

from listeners.throttle import address_key

from .protocol import CLOSE_TOO_MANY_CONNECTIONS

# What a refused HTTP stream is told to wait before trying again, in seconds.
RETRY_AFTER_S = 10

# Open connections by address, one count per event loop (a worker has one).
_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Counter[str]] = (
    weakref.WeakKeyDictionary()
)


class ConnectionsPerAddress:
    """ASGI middleware: counts the connections ``inner`` serves by address,
    and refuses those over the cap."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        cap = settings.RADIO_MAX_CONNECTIONS_PER_IP
        client = scope.get("client")
        if not cap or not client:
            return await self.inner(scope, receive, send)
        counts = _open.setdefault(asyncio.get_running_loop(), Counter())
        address = address_key(client[0])
        if counts[address] >= cap:
            return await _refuse(scope, receive, send)
        counts[address] += 1
        try:
            return await self.inner(scope, receive, send)
        finally:
            counts[address] -= 1
            if not counts[address]:
                del counts[address]


async def _refuse(scope: dict[str, Any], receive, send) -> None:
    if scope["type"] == "websocket":
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TOO_MANY_CONNECTIONS})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send(
        {"type": "http.response.body", "body": b"Too many connections from here.\n"}
    )
