"""What radio relies on of daphne's internals, in one place.

daphne's ASGI ``send`` is a bound method of its server with the connection's
protocol object as the one argument; through it radio writes audio without
a detour, learns when a client stops reading, and sends close codes that
daphne's own close refuses.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]


def daphne_protocol(send: AsgiSend) -> Any | None:
    """The daphne protocol object behind an ASGI ``send``, if there is one.

    daphne hands applications ``partial(server.handle_reply, protocol)``
    (daphne/server.py ``create_application``); this is the one place that
    relies on it.
    """
    if isinstance(send, functools.partial) and len(send.args) == 1:
        owner = getattr(send.func, "__self__", None)
        if type(owner).__module__ == "daphne.server":
            return send.args[0]
    return None


def send_close_frame(send: AsgiSend, code: int) -> bool:
    """Close a daphne WebSocket with ``code``; False if ASGI must do it.

    daphne closes through autobahn's ``sendClose()``, which takes only 1000
    and 3000-4999, not the protocol's 1009 (message too big);
    ``sendCloseFrame()`` sends any code and still completes the handshake.
    """
    protocol = daphne_protocol(send)
    if protocol is None:
        return False
    if protocol.state == protocol.STATE_OPEN:
        protocol.sendCloseFrame(code=code)
    return True
