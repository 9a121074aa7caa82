"""ASGI middleware of the project."""

from typing import Any

# Where the server's own ``send`` is kept in the scope.
SERVER_SEND = "radio.server_send"


class ServerSendMiddleware:
    """Keeps the server's own ``send`` in the scope as ``radio.server_send``.

    Middleware further in (sessions) wraps ``send``; the station streams
    need the server's, to write audio without a detour and to learn when a
    client stops reading (``stations/streaming/transport.py``).
    """

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        return await self.inner({**scope, SERVER_SEND: send}, receive, send)
