"""Token buckets of the chat and inbox rate limits: on a test clock, and in
Redis as workers share them."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis

from radio.ratelimit import REDIS_TIMEOUT_S, RedisRateLimiter, TokenBucket
from tests.support.servers import free_port


def test_burst_is_allowed_then_refused():
    """Five messages at once pass; the sixth does not."""
    bucket = TokenBucket(burst=5, per_second=1.0)
    bucket.updated = 0.0
    assert [bucket.take(now=0.0) for _ in range(6)] == [True] * 5 + [False]


def test_refill_allows_one_message_per_second():
    """An empty bucket takes one more message after a second."""
    bucket = TokenBucket(burst=5, per_second=1.0)
    bucket.updated = 0.0
    for _ in range(5):
        bucket.take(now=0.0)
    assert bucket.take(now=0.5) is False
    assert bucket.take(now=1.0) is True
    assert bucket.take(now=1.1) is False


def test_a_normal_talker_is_never_limited():
    """A message every two seconds for ten minutes always passes."""
    bucket = TokenBucket(burst=5, per_second=1.0)
    bucket.updated = 0.0
    assert all(bucket.take(now=t * 2.0) for t in range(300))


def test_refill_stops_at_the_burst():
    """A long silence earns at most a burst, not an unlimited flood."""
    bucket = TokenBucket(burst=5, per_second=1.0)
    bucket.updated = 0.0
    results = [bucket.take(now=3600.0) for _ in range(6)]
    assert results == [True] * 5 + [False]


# --- In Redis, shared by workers ---------------------------------------------


def redis_limiter(url: str, *, burst: int = 5) -> RedisRateLimiter:
    """A limiter with its own Redis client, as one worker has."""
    client = aioredis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S)
    return RedisRateLimiter(client, purpose="chat", burst=burst, per_second=0.01)


@pytest.mark.redis
async def test_workers_sharing_redis_give_one_allowance(redis_url):
    """Five messages pass in all, however the user spreads them over two
    workers; another user still has a full allowance."""
    one, two = redis_limiter(redis_url), redis_limiter(redis_url)
    answers = [await (one if n % 2 else two).aallow(41) for n in range(8)]
    assert answers == [True] * 5 + [False] * 3
    assert await one.aallow(42) is True


@pytest.mark.redis
async def test_redis_bucket_refills_at_its_rate(redis_url):
    """An emptied bucket takes one more message once a token has come back."""
    client = aioredis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(client, purpose="refill", burst=2, per_second=20.0)
    assert [await limiter.aallow(7) for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.1)
    assert await limiter.aallow(7) is True
    ttl_ms = await client.pttl("radio:ratelimit:refill:7")
    assert 0 < ttl_ms <= 2 / 20.0 * 1000 + 1000


async def test_unreachable_redis_lets_messages_pass_and_logs_once(caplog):
    """Redis down: every message passes, and one warning says so."""
    limiter = redis_limiter(f"redis://127.0.0.1:{free_port()}/0", burst=1)
    with caplog.at_level(logging.WARNING, logger="radio.ratelimit"):
        answers = [await limiter.aallow(1) for _ in range(3)]
    assert answers == [True] * 3
    assert len(caplog.records) == 1
    assert "not checked" in caplog.records[0].getMessage()
