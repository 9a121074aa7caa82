"""Chat in the station room: group names, event shapes and the rate limit.

A chat message is stored first (``services.chat_message_create``) and sent
to the station's chat group only once the transaction has committed; the
consumers in that group forward it to their clients.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from datetime import UTC
from typing import Any

from .models import ChatMessage

# Server-to-client message types.
CHAT = "chat"
CHAT_HISTORY = "chat.history"
CHAT_DELETED = "chat.deleted"
# Channel-layer event types, dispatched to ``chat_message``/``chat_deleted``.
CHAT_MESSAGE_EVENT = "chat.message"
CHAT_DELETED_EVENT = "chat.deleted"

# How many recent messages a joining listener gets in ``chat.history``.
CHAT_HISTORY_MESSAGES = 50


def chat_group_name(station_id: int) -> str:
    """The channel-layer group of a station's chat (``[a-zA-Z0-9._-]``)."""
    return f"station.{station_id}.chat"


def chat_message_as_dict(message: ChatMessage) -> dict[str, Any]:
    """``{"type": "chat", ...}`` as clients get it; needs ``message.user``."""
    return {
        "type": CHAT,
        "id": message.pk,
        "user": message.user.get_username(),
        "text": message.text,
        "ts": message.created_at.astimezone(UTC).isoformat(),
    }


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

    @property
    def full(self) -> bool:
        return self.tokens >= self.burst


class ChatRateLimiter:
    """One token bucket per user, for all of the user's sockets here.

    The limit holds per server process: with several workers a user could
    send up to once more per worker, which is still far from a flood.
    """

    # Forget idle users' buckets after this many messages, to stay bounded.
    PRUNE_EVERY_MESSAGES = 1000

    def __init__(self, *, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[int, TokenBucket] = {}
        self._since_prune = 0

    def allow(self, user_id: int) -> bool:
        """Whether the user may send a chat message now; counts it if so."""
        self._since_prune += 1
        if self._since_prune >= self.PRUNE_EVERY_MESSAGES:
            self._prune()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = TokenBucket(
                burst=self.burst, per_second=self.per_second
            )
        return bucket.take()

    def _prune(self) -> None:
        now = time.monotonic()
        for user_id, bucket in list(self._buckets.items()):
            bucket.refill(now)
            if bucket.full:
                del self._buckets[user_id]
        self._since_prune = 0


# One limiter per event loop, like the station bus (``runtime.get_bus``).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChatRateLimiter] = (
    weakref.WeakKeyDictionary()
)


def get_rate_limiter(*, burst: int, per_second: float) -> ChatRateLimiter:
    """The chat rate limiter of the running event loop."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = ChatRateLimiter(burst=burst, per_second=per_second)
    return limiter
