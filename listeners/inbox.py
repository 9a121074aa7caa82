"""Names, limits and the rate limiter of the private inbox (``/ws/inbox/``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

# Longest message, in characters after trimming (``InboxMessage.text``).
MAX_TEXT_CHARS = 1000
# Most unread messages sent on connect, oldest first; older ones wait until
# these are read.
MAX_UNREAD = 200
# Most ids one ``inbox.read`` may carry.
MAX_READ_IDS = 200
# Longest username a client may name (Django's ``AbstractUser`` allows 150).
MAX_USERNAME_CHARS = 150
# Senders tracked by one worker's rate limiter; beyond this, idle (full)
# buckets are dropped first.
MAX_TRACKED_SENDERS = 10_000

# Error code of {"type": "error"} beyond those of ``stations.protocol``.
UNKNOWN_USER = "unknown_user"

# Message types, client to server and server to client.
SEND = "inbox.send"
SENT = "inbox.sent"
READ = "inbox.read"
BLOCK = "inbox.block"
BLOCKED = "inbox.blocked"
UNBLOCK = "inbox.unblock"
UNBLOCKED = "inbox.unblocked"
MESSAGE = "inbox.message"
UNREAD = "inbox.unread"


def group_name(user_pk: int) -> str:
    """The channel-layer group of every connection of one user.

    Keyed on the primary key: usernames may hold ``@`` and ``+``, which group
    names may not (docs/PROTOCOL.md, /ws/inbox/).
    """
    return f"inbox.{user_pk}"


@dataclass
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; one per message."""

    burst: float
    rate: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.updated) * self.rate >= self.burst


class SenderRateLimiter:
    """One token bucket per sender, shared by the sender's connections.

    The buckets live in this worker's memory: a sender connected to several
    workers gets one allowance per worker.
    """

    def __init__(self) -> None:
        # Maps a sender's user pk to that sender's bucket.
        self._buckets: dict[int, TokenBucket] = {}

    def allow(self, sender_pk: int, *, burst: int, per_second: float) -> bool:
        """Take one token from the sender's bucket; False if it is empty."""
        now = time.monotonic()
        bucket = self._buckets.get(sender_pk)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_SENDERS:
                self._forget_full(now)
            bucket = TokenBucket(burst, per_second, burst, now)
            self._buckets[sender_pk] = bucket
        return bucket.take(now)

    def clear(self) -> None:
        self._buckets.clear()

    def _forget_full(self, now: float) -> None:
        # A full bucket is the same as no bucket at all.
        for pk in [pk for pk, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[pk]
        # Still too many busy senders: drop the longest tracked one, whose
        # next message then starts from a full bucket.
        if len(self._buckets) >= MAX_TRACKED_SENDERS:
            del self._buckets[next(iter(self._buckets))]


# The limiter of this worker's inbox connections.
rate_limiter = SenderRateLimiter()
