"""The log filters that keep a library's retry loop to one line a minute
and its cancelled cleanups out of the log."""

from __future__ import annotations

import asyncio
import logging
import sys

from radio import logfilters
from radio.logfilters import Cancellations, Repeats


def record(message: str, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("lib", logging.ERROR, __file__, 1, message, (), exc_info)


def raised(exception: BaseException):
    try:
        raise exception
    except BaseException:
        return sys.exc_info()


def test_a_repeated_record_passes_once_per_interval(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(logfilters.time, "monotonic", lambda: now[0])
    repeats = Repeats()
    passed = []
    for _ in range(30):
        passed.append(repeats.filter(record("Unexpected exception in receive task")))
        now[0] += 1.0
    assert passed == [True] + [False] * 29
    now[0] += logfilters.REPEAT_INTERVAL_S
    assert repeats.filter(record("Unexpected exception in receive task"))


def test_other_messages_pass_beside_a_repeated_one():
    repeats = Repeats()
    assert repeats.filter(record("first failure"))
    assert repeats.filter(record("another failure"))
    assert not repeats.filter(record("first failure"))


def test_a_cancelled_cleanup_is_dropped_and_a_failed_one_kept():
    cancellations = Cancellations()
    cleaning_up = "Unexpected exception while cleaning-up channel:"
    assert not cancellations.filter(
        record(cleaning_up, raised(asyncio.CancelledError()))
    )
    assert cancellations.filter(record(cleaning_up, raised(ConnectionError("gone"))))
    assert cancellations.filter(record("no exception"))


def test_channels_redis_logs_through_both_filters():
    logger = logging.getLogger("channels_redis.pubsub")
    kinds = {type(f) for f in logger.filters}
    assert {Repeats, Cancellations} <= kinds
