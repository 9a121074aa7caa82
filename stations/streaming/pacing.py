"""How far ahead of real time a producer's audio may run."""

from __future__ import annotations

import time
from collections.abc import Callable


class AudioPace:
    """A budget of audio time: ``head_start_s`` ahead at most, regained at
    ``max_speed`` seconds of audio per second.

    Audio sent in real time never runs out of it; a backlog after a network
    hiccup spends some; a source that floods spends it all.
    """

    def __init__(
        self,
        *,
        head_start_s: float,
        max_speed: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._head_start_ms = head_start_s * 1000
        self._max_speed = max_speed
        self._clock = clock
        self._credit_ms = self._head_start_ms
        self._updated = clock()

    def allows(self, duration_ms: float) -> bool:
        """Spend ``duration_ms`` of audio; False once the budget is overdrawn."""
        now = self._clock()
        regained_ms = (now - self._updated) * 1000 * self._max_speed
        self._credit_ms = min(self._head_start_ms, self._credit_ms + regained_ms)
        self._updated = now
        self._credit_ms -= duration_ms
        return self._credit_ms >= 0
