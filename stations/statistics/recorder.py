"""Recording listening sessions without slowing the streaming path.

``rooms.join_station`` opens a session for each counted listener (DJs'
consoles are not listeners) and ``leave_station`` closes it: a dictionary
entry each, nothing more on the event loop. Closed sessions wait in memory
and are written together, with one ``bulk_create`` in a thread, at most
``RADIO_STATS_FLUSH_SECONDS`` after the first of them closed; when the
server stops, the sessions still open are closed and everything is written.

A worker that dies without stopping (killed, out of memory) loses its open
sessions and those waiting to be written: rows are written only at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from stations.runtime import run_in_background
from stations.streaming.audience import Listener

from .clients import MAX_USER_AGENT_CHARS
from .models import Transport

logger = logging.getLogger(__name__)


@dataclass
class Visit:
    """A session while it is open: what is known of the listener at join.

    The address is kept in memory only until the session is written, as a
    hash.
    """

    station_id: int
    transport: Transport
    user_agent: str
    address: str
    user_id: int | None
    started_at: datetime = field(default_factory=timezone.now)
    # Durations come from the monotonic clock: a wall-clock step (NTP) does
    # not make a session longer or negative.
    started_monotonic: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class FinishedVisit:
    visit: Visit
    ended_at: datetime
    duration_s: float


def visit_from_scope(
    scope: dict[str, Any], *, station_id: int, transport: Transport
) -> Visit | None:
    """The visit of the ASGI connection ``scope``; None when statistics are
    off (``RADIO_STATS_ENABLED``).

    The address is ``scope["client"]``: daphne's socket peer, or the
    proxy's ``X-Forwarded-For`` when it runs with ``--proxy-headers``.
    """
    if not settings.RADIO_STATS_ENABLED:
        return None
    user = scope.get("user")
    client = scope.get("client")
    return Visit(
        station_id=station_id,
        transport=transport,
        user_agent=_header(scope, b"user-agent")[:MAX_USER_AGENT_CHARS],
        address=client[0] if client else "",
        user_id=user.pk if user is not None and user.is_authenticated else None,
    )


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class SessionRecorder:
    """The sessions of one event loop's listeners: open ones, and closed
    ones waiting to be written."""

    def __init__(self, *, flush_seconds: float, min_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self.min_seconds = min_seconds
        # Each counted listener's open session.
        self._open: dict[Listener, Visit] = {}
        # Closed sessions not written yet.
        self._finished: list[FinishedVisit] = []
        self._flush_timer: asyncio.TimerHandle | None = None

    @property
    def open_count(self) -> int:
        return len(self._open)

    def open(self, listener: Listener, visit: Visit) -> None:
        self._open[listener] = visit

    def close(self, listener: Listener) -> None:
        """End ``listener``'s session, if it has one; it is written soon."""
        visit = self._open.pop(listener, None)
        if visit is None:
            return
        duration_s = time.monotonic() - visit.started_monotonic
        # Shorter connections are players probing the stream, not listening.
        if duration_s < self.min_seconds:
            return
        self._finished.append(FinishedVisit(visit, timezone.now(), duration_s))
        if self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(
                self.flush_seconds, self._flush_in_background
            )

    def _flush_in_background(self) -> None:
        self._flush_timer = None
        run_in_background(self.flush())

    async def flush(self) -> int:
        """Write the closed sessions; how many were written."""
        batch, self._finished = self._finished, []
        if not batch:
            return 0
        from .services import listening_sessions_create

        try:
            return await database_sync_to_async(listening_sessions_create)(batch)
        except Exception:
            logger.exception("Could not store %d listening sessions", len(batch))
            return 0

    async def shutdown(self) -> int:
        """Close every open session now and write them all."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        for listener in list(self._open):
            self.close(listener)
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        return await self.flush()


# One recorder per event loop, as the station bus (stations/runtime.py).
_recorders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SessionRecorder] = (
    weakref.WeakKeyDictionary()
)


def get_recorder() -> SessionRecorder:
    """The session recorder of the running event loop."""
    loop = asyncio.get_running_loop()
    recorder = _recorders.get(loop)
    if recorder is None:
        recorder = _recorders[loop] = SessionRecorder(
            flush_seconds=settings.RADIO_STATS_FLUSH_SECONDS,
            min_seconds=settings.RADIO_STATS_MIN_SESSION_SECONDS,
        )
    return recorder


def start() -> None:
    """In a daphne worker: write the sessions when the server stops, and
    prune old ones regularly."""
    from twisted.internet import defer, reactor

    from .retention import prune_regularly

    def write_before_stopping() -> defer.Deferred:
        writing = asyncio.ensure_future(get_recorder().shutdown())
        return defer.Deferred.fromFuture(writing)

    reactor.addSystemEventTrigger("before", "shutdown", write_before_stopping)
    run_in_background(prune_regularly())
