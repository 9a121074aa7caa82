"""The API's answers, kept for ``RADIO_API_CACHE_SECONDS`` in this worker.

One build per key per interval whatever the request rate: requests that
come while an answer is being built wait for that build instead of starting
their own. Answers are plain JSON-ready objects, never changed once built.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")

# key -> (monotonic time built, what was built).
_built: dict[Hashable, tuple[float, Any]] = {}
# key -> the build under way, for requests that come meanwhile.
_building: dict[Hashable, asyncio.Future] = {}
# Past this many entries the stale ones are dropped: keys (history pages,
# host names) are chosen by clients.
MAX_ENTRIES = 1000


def _fresh(entry: tuple[float, Any]) -> bool:
    return time.monotonic() - entry[0] < settings.RADIO_API_CACHE_SECONDS


def seconds_left(key: Hashable) -> float:
    """How much longer the answer kept for ``key`` stays fresh; 0 if none is."""
    entry = _built.get(key)
    if entry is None:
        return 0.0
    age = time.monotonic() - entry[0]
    return max(0.0, settings.RADIO_API_CACHE_SECONDS - age)


def remember(key: Hashable, value: T) -> T:
    """Keep ``value`` as the answer for ``key`` from now."""
    if len(_built) >= MAX_ENTRIES:
        for stale in [key for key, entry in _built.items() if not _fresh(entry)]:
            del _built[stale]
    _built[key] = (time.monotonic(), value)
    return value


async def abuilt_once(key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
    """What ``build()`` gave for ``key`` within the interval, else its answer
    now, built once for every request that asks meanwhile."""
    entry = _built.get(key)
    if entry is not None and _fresh(entry):
        return entry[1]
    loop = asyncio.get_running_loop()
    pending = _building.get(key)
    if pending is None or pending.get_loop() is not loop:
        pending = _building[key] = loop.create_task(_build_and_remember(key, build))
    # Shielded: a request that goes away does not cancel the others' build.
    return await asyncio.shield(pending)


async def _build_and_remember(key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
    try:
        return remember(key, await build())
    finally:
        if _building.get(key) is asyncio.current_task():
            del _building[key]
