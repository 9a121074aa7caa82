"""What radio relies on of daphne's internals, in one place.

daphne's ASGI ``send`` is a bound method of its server with the connection's
protocol object as the one argument; through it radio writes audio without
a detour, learns when a client stops reading, and sends close codes that
daphne's own close refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

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


def check_connections_in_slices(slices: int = 10) -> None:
    """Make daphne check its connections a slice at a time.

    daphne looks at every connection once a second (to reap finished
    applications) and every two seconds (timeouts and pings), each time in
    one callback: with 15,000 listeners those hold the event loop for 30 to
    60 ms, and every listener's audio waits behind them. Here each check
    runs ``slices`` times as often over that share of the connections, so
    each connection is still checked as often, in short pieces.
    """
    from daphne.server import Server

    def application_checker(server: Server) -> None:
        _in_slices(server, _check_application, period_s=1.0, slices=slices)()

    def timeout_checker(server: Server) -> None:
        _in_slices(
            server, lambda server, protocol: protocol.check_timeouts(),
            period_s=2.0, slices=slices,
        )()  # fmt: skip

    # daphne's run() calls each once; from then on they reschedule themselves.
    Server.application_checker = application_checker
    Server.timeout_checker = timeout_checker


def _in_slices(
    server: Any,
    check: Callable[[Any, Any], None],
    *,
    period_s: float,
    slices: int,
    clock: Any = None,
) -> Callable[[], None]:
    """A callback that calls ``check(server, protocol)`` on a slice of the
    server's connections and schedules itself again on ``clock`` (the
    reactor), reaching each connection of a round once per ``period_s``."""
    if clock is None:
        from twisted.internet import reactor as clock

    pending: list[Any] = []
    share = 0

    def tick() -> None:
        nonlocal share
        if not pending:
            pending.extend(server.connections)
            share = -(-len(pending) // slices)
        for _ in range(min(share, len(pending))):
            protocol = pending.pop()
            if protocol in server.connections:
                check(server, protocol)
        clock.callLater(period_s / slices, tick)

    return tick


def _check_application(server: Any, protocol: Any) -> None:
    """daphne's ``Server.application_checker`` (4.x) for one connection:
    cancel an application that outlives its closed connection by
    ``application_close_timeout``, log how a finished one failed, and
    forget the connection once both are done."""
    details = server.connections[protocol]
    disconnected = details.get("disconnected")
    application = details.get("application_instance")
    if (
        disconnected
        and time.time() - disconnected > server.application_close_timeout
        and application
        and not application.done()
    ):
        logger.warning(
            "Application instance %r for connection %s took too long to shut "
            "down and was killed.", application, repr(protocol),
        )  # fmt: skip
        application.cancel()
    if application and application.done():
        with contextlib.suppress(asyncio.CancelledError):
            if exception := application.exception():
                if isinstance(exception, KeyboardInterrupt):
                    server.stop()
                else:
                    logger.error(
                        "Exception inside application: %s", exception,
                        exc_info=exception,
                    )  # fmt: skip
                    if not disconnected:
                        protocol.handle_exception(exception)
        del details["application_instance"]
        application = None
    if not application and disconnected:
        del server.connections[protocol]
