"""Log filters for what libraries log that says nothing to an operator:
the same failure once a second in a retry loop, or a cancellation."""

from __future__ import annotations

import asyncio
import logging
import time

# A record repeated by a retry loop is let through at most this often.
REPEAT_INTERVAL_S = 60.0


class Repeats(logging.Filter):
    """Lets a record through once per ``REPEAT_INTERVAL_S`` per message.

    channels-redis's pub/sub reader logs its connection error, with the
    traceback, every second while Redis is away; once says as much.
    """

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._last_seen: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        last = self._last_seen.get(record.msg)
        if last is not None and now - last < REPEAT_INTERVAL_S:
            return False
        self._last_seen[record.msg] = now
        return True


class Cancellations(logging.Filter):
    """Drops records whose exception is a task's cancellation.

    channels-redis unsubscribes a consumer's channel when its ``receive``
    is cancelled, and logs the traceback when that unsubscribe is cancelled
    too, as every consumer still closing is when the worker stops. Nothing
    is lost: Redis forgets a closed connection's subscriptions.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError)
        )
