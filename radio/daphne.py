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


def daphne_protocol(send: AsgiSend | None) -> Any | None:
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


def drop_slow_handshakes(seconds: float) -> None:
    """Make daphne drop a connection that has not sent a whole HTTP request
    (a WebSocket's opening handshake is one) ``seconds`` after it opened.

    Twisted drops a connection only once it has been idle for a minute, and
    one that sends a byte now and then never is: enough such sockets would
    hold all of a worker's file descriptors. Past the request line and
    headers, daphne's ``--websocket_connect_timeout`` and Twisted's idle
    timeout take over. The same hook lets go of a request once daphne has
    upgraded it to a WebSocket.
    """
    from daphne.http_protocol import HTTPFactory

    build = getattr(HTTPFactory.buildProtocol, "without_deadline", None)
    build = build or HTTPFactory.buildProtocol

    def build_with_deadline(factory, address):
        protocol = build(factory, address)
        # ``protocol`` proxies the HTTP/1.1 channel, whose
        # ``allContentReceived`` is called once a request has fully come.
        channel = protocol._channel
        deadline = factory.reactor.callLater(seconds, _drop, channel)
        request_received = channel.allContentReceived

        def all_content_received() -> None:
            if deadline.active():
                deadline.cancel()
            # The channel and this function hold each other: a cycle that
            # only the garbage collector would free, pausing the worker.
            del channel.allContentReceived
            request_received()
            _forget_upgraded_requests(channel)

        channel.allContentReceived = all_content_received
        return protocol

    build_with_deadline.without_deadline = build
    HTTPFactory.buildProtocol = build_with_deadline


def _forget_upgraded_requests(channel: Any) -> None:
    """Take the requests daphne upgraded to WebSockets off ``channel``.

    daphne hands an upgraded connection to its WebSocket protocol, taking
    the transport from the HTTP request but leaving the request in its
    channel's list, where the two hold each other: another cycle for the
    garbage collector. The channel gets nothing more of the connection.
    """
    channel.requests[:] = [
        request for request in channel.requests if request.transport is not None
    ]


def _drop(channel: Any) -> None:
    if channel.transport is not None:
        channel.transport.loseConnection()


def forget_closed_protocol(send: AsgiSend | None) -> None:
    """Let a closed daphne WebSocket be freed as soon as daphne lets go of it.

    autobahn resolves the protocol's ``is_closed`` Deferred with the
    protocol itself, so the two keep each other alive until a collection
    of their generation: with many listeners coming and going, those
    collections free thousands of connections at once and pause every
    stream for a few hundred milliseconds. Nothing waits on ``is_closed``
    once the connection is closed.
    """
    protocol = daphne_protocol(send)
    if protocol is None or protocol.state != protocol.STATE_CLOSED:
        return
    closed = getattr(protocol, "is_closed", None)
    if closed is not None and closed.called and closed.result is protocol:
        closed.result = None
