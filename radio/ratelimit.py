"""Per-user message rate limits, kept in the memory of one worker.

A user connected to several workers gets one allowance per worker: still
far from a flood, and no shared store is needed on the hot path.
"""

from __future__ import annotations

import asyncio
import time
import weakref

# Users tracked by one limiter; beyond this, users with full buckets (the
# same as no bucket) are forgotten first.
MAX_TRACKED_USERS = 10_000


class TokenBucket:
    """Allows ``burst`` messages at once, then ``per_second`` sustained."""

    def __init__(self, *, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def refill(self, now: float) -> None:
        elapsed = now - self.updated
        self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
        self.updated = now

    def take(self, now: float | None = None) -> bool:
        """Spend one token; False (and nothing spent) if there is none."""
        self.refill(time.monotonic() if now is None else now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.burst


class RateLimiter:
    """One token bucket per user, shared by all of the user's sockets here."""

    def __init__(self, *, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        # Maps a user's pk to that user's bucket.
        self._buckets: dict[int, TokenBucket] = {}

    def allow(self, user_pk: int) -> bool:
        """Whether the user may send a message now; counts it if so."""
        bucket = self._buckets.get(user_pk)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_USERS:
                self._forget_idle()
            bucket = TokenBucket(burst=self.burst, per_second=self.per_second)
            self._buckets[user_pk] = bucket
        return bucket.take()

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for pk in [pk for pk, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[pk]
        # Still too many busy users: forget the longest tracked one, whose
        # next message then starts from a full bucket.
        if len(self._buckets) >= MAX_TRACKED_USERS:
            del self._buckets[next(iter(self._buckets))]


# One limiter per event loop and purpose, like the station bus
# (``stations.runtime.get_bus``): each test's loop starts afresh.
_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, RateLimiter]
] = weakref.WeakKeyDictionary()


def get_rate_limiter(purpose: str, *, burst: int, per_second: float) -> RateLimiter:
    """The running event loop's limiter for ``purpose`` (e.g. ``"chat"``)."""
    limiters = _limiters.setdefault(asyncio.get_running_loop(), {})
    limiter = limiters.get(purpose)
    if limiter is None:
        limiter = limiters[purpose] = RateLimiter(burst=burst, per_second=per_second)
    return limiter
