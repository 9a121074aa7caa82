"""A worker told to stop (SIGTERM) lets its clients go before it exits.

Left to daphne, SIGTERM stops Twisted's reactor at once: every connection's
application is cancelled and its socket dropped. Listeners and DJs see the
connection fail and wait out their backoff, a live DJ's lease is held until
it expires (the DJ gets 4409 meanwhile), and a station the AutoDJ played here
is silent until its lease expires too. Instead, at SIGTERM this module

1. stops taking connections: every listening port of the process closes,
   so that the load balancer sends new ones to the other workers;
2. ends every open connection the way its client expects: WebSockets close
   with 1012 (service restart: the pages reconnect at once, and reach a
   worker that is up), a live DJ's broadcast is suspended first, for the
   reconnect grace, so that the DJ resumes it elsewhere; ``stream.mp3``
   responses end; and the drain hooks run (the AutoDJ gives its stations
   up, so that another worker's AutoDJ takes them at once);
3. waits for that, at most ``DRAIN_TIMEOUT_S``, then stops the reactor as
   SIGTERM did before: the before-shutdown triggers (daphne's, and the
   statistics' last write) run, and the process exits.

A second SIGTERM while draining stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import signal
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

# The longest a stopping worker waits for its clients to be let go.
DRAIN_TIMEOUT_S = 5.0

End = Callable[[], Awaitable[None]]

# Open connections, each with how it ends when the worker stops.
_open: dict[object, End] = {}
# Run when the worker stops, beside the connections' ends.
_hooks: list[End] = []
# Close the listening sockets that are not Twisted's (the source ports).
_closers: list[Callable[[], None]] = []
_draining = False
# Set when the last open connection has gone, while draining.
_all_gone: asyncio.Event | None = None


def track(connection: object, end: End) -> None:
    """Call ``end()`` if the worker stops while ``connection`` is open.

    A connection that opens while the worker drains is ended at once.
    """
    _open[connection] = end
    if _draining:
        _end_in_background(end)


def forget(connection: object) -> None:
    """``connection`` has closed and released what it held."""
    _open.pop(connection, None)
    if _all_gone is not None and not _open:
        _all_gone.set()


def on_drain(hook: End) -> None:
    """Run ``hook()`` when the worker stops, before it exits."""
    _hooks.append(hook)


def on_stop_listening(close: Callable[[], None]) -> None:
    """Call ``close()`` to close a listening socket when the worker stops."""
    _closers.append(close)


async def drain(*, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
    """End every open connection and run the hooks; wait for the connections
    to close, at most ``timeout_s``."""
    global _draining, _all_gone
    _draining = True
    _all_gone = asyncio.Event()
    if not _open:
        _all_gone.set()
    ends = [end() for end in (*_open.values(), *_hooks)]
    try:
        async with asyncio.timeout(timeout_s):
            for outcome in await asyncio.gather(*ends, return_exceptions=True):
                if isinstance(outcome, Exception):
                    logger.error("Letting a client go failed", exc_info=outcome)
            await _all_gone.wait()
    except TimeoutError:
        logger.warning(
            "%d connections were still open after %g s; stopping anyway",
            len(_open),
            timeout_s,
        )


def _end_in_background(end: End) -> None:
    from stations.runtime import run_in_background

    async def ending() -> None:
        try:
            await end()
        except Exception:
            logger.exception("Letting a client go failed")

    run_in_background(ending())


def start() -> None:
    """In a daphne worker: drain at SIGTERM, then stop as daphne does."""
    from twisted.internet import error, reactor

    def stop(*_) -> None:
        with contextlib.suppress(error.ReactorNotRunning):
            reactor.stop()

    def stop_gracefully() -> None:
        if _draining:
            stop()
            return
        logger.warning("Stopping: letting the clients go first")
        _stop_listening()
        asyncio.ensure_future(drain()).add_done_callback(stop)

    def on_sigterm(*_) -> None:
        # Twisted's own handler (reactor.sigTerm) stops at once. This one
        # runs from the reactor's loop too, but in a context of its own: the
        # callback would be scheduled in that of whatever code the signal
        # interrupted, and asgiref refuses database calls from a context
        # whose task was already in one ("would deadlock"), such as the
        # statistics' last write.
        fresh = contextvars.Context()
        reactor.callFromThread(fresh.run, stop_gracefully)

    signal.signal(signal.SIGTERM, on_sigterm)


def _stop_listening() -> None:
    """Close every listening socket of the process: daphne's and the others."""
    from twisted.internet import reactor, tcp

    for reader in reactor.getReaders():
        if isinstance(reader, tcp.Port):
            reader.stopListening()
    for close in _closers:
        try:
            close()
        except Exception:
            logger.exception("Could not close a listening socket")
