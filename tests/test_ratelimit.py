"""Token buckets of the chat and inbox rate limits, on a test clock."""

from __future__ import annotations

from radio.ratelimit import TokenBucket


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
