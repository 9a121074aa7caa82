"""Per-user message rate limits: token buckets, one per user and purpose.

With REDIS_URL the buckets live in Redis, so a user connected to several
workers gets one allowance in all: each check is one script run, one round
trip. Without it they live in the memory of the one process.

A check that Redis fails (down, or slower than REDIS_TIMEOUT_S) lets the
message through: chat goes on while Redis is away, unlimited for as long.
The first failure is logged, and the recovery.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

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

    async def aallow(self, user_pk: int) -> bool:
        return self.allow(user_pk)

    def _forget_idle(self) -> None:
        now = time.monotonic()
        for pk in [pk for pk, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[pk]
        # Still too many busy users: forget the longest tracked one, whose
        # next message then starts from a full bucket.
        if len(self._buckets) >= MAX_TRACKED_USERS:
            del self._buckets[next(iter(self._buckets))]


# Redis's answer must come within this many seconds, or the message passes.
REDIS_TIMEOUT_S = 1.0
# The token bucket of ``TokenBucket`` in Lua, on Redis's clock (every
# worker's the same). KEYS[1]: the user's bucket; ARGV: burst, per second.
# The bucket is full again, and so forgotten, burst / per second after
# its last message.
TAKE_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local burst = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(bucket[1]) or burst
local updated = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * per_second)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_second * 1000) + 1000)
return allowed
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every worker using it."""

    def __init__(
        self, client: aioredis.Redis, *, purpose: str, burst: int, per_second: float
    ) -> None:
        self.purpose = purpose
        self.burst = burst
        self.per_second = per_second
        self._take = client.register_script(TAKE_SCRIPT)
        self._failing = False

    async def aallow(self, user_pk: int) -> bool:
        """Whether the user may send a message now; counts it if so."""
        key = f"radio:ratelimit:{self.purpose}:{user_pk}"
        try:
            allowed = await self._take(keys=[key], args=[self.burst, self.per_second])
        except (RedisError, OSError) as problem:
            if not self._failing:
                logger.warning(
                    "Rate limit %r not checked, messages pass until Redis answers: %s",
                    self.purpose,
                    problem,
                )
                self._failing = True
            return True
        if self._failing:
            logger.warning("Rate limit %r checked in Redis again", self.purpose)
            self._failing = False
        return bool(allowed)


Limiter = RateLimiter | RedisRateLimiter


class _LoopLimiters:
    """One event loop's limiters by purpose, and their Redis client."""

    def __init__(self) -> None:
        self.by_purpose: dict[str, Limiter] = {}
        self._client: aioredis.Redis | None = None

    def build(self, purpose: str, *, burst: int, per_second: float) -> Limiter:
        if not settings.REDIS_URL:
            return RateLimiter(burst=burst, per_second=per_second)
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
        return RedisRateLimiter(
            self._client, purpose=purpose, burst=burst, per_second=per_second
        )


# One set of limiters per event loop, like the station bus
# (``stations.runtime.get_bus``): each test's loop starts afresh.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopLimiters] = (
    weakref.WeakKeyDictionary()
)


def get_rate_limiter(purpose: str, *, burst: int, per_second: float) -> Limiter:
    """The running event loop's limiter for ``purpose`` (e.g. ``"chat"``):
    in Redis with REDIS_URL, else in memory."""
    loop_limiters = _limiters.setdefault(asyncio.get_running_loop(), _LoopLimiters())
    limiter = loop_limiters.by_purpose.get(purpose)
    if limiter is None:
        limiter = loop_limiters.build(purpose, burst=burst, per_second=per_second)
        loop_limiters.by_purpose[purpose] = limiter
    return limiter
