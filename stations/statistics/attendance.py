"""How many listened during spans of time, from their sessions.

Plain arithmetic over (start, end) pairs in seconds (Unix time), no
queries: ``selectors`` loads the sessions and the spans (the chart's
buckets, a show's occurrences, the plays). The sessions' starts and ends
are sorted once, with running sums, so a span's listening seconds and
sessions are a few binary searches; its peak walks the starts and ends
within it, so all the spans together walk each once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

Interval = tuple[float, float]


@dataclass
class Attendance:
    """The listening during one span."""

    start: float
    end: float
    # Sessions that were open at some moment of the span.
    sessions: int = 0
    # The sum of every session's seconds within the span.
    listening_seconds: float = 0.0
    # The most sessions open at one moment of the span.
    peak: int = 0

    @property
    def average(self) -> float:
        """Listeners on average over the span: listening seconds per second."""
        return average_listeners(self.listening_seconds, self.end - self.start)


def average_listeners(listening_seconds: float, seconds: float) -> float:
    """Listeners on average over ``seconds``; none over no time."""
    return listening_seconds / seconds if seconds > 0 else 0.0


class SessionTimes:
    """The starts and ends of sessions, sorted, for ``attendance``.

    A session is open from its start up to, not including, its end: one
    that ends as another starts does not make two listeners at once. Times
    are kept from the earliest start, so the running sums stay exact to
    well under a millisecond with millions of sessions.
    """

    def __init__(self, sessions: Iterable[Interval]) -> None:
        pairs = list(sessions)
        self.origin = min((start for start, _ in pairs), default=0.0)
        self.starts = sorted(start - self.origin for start, _ in pairs)
        self.ends = sorted(end - self.origin for _, end in pairs)
        self._start_sums = list(accumulate(self.starts, initial=0.0))
        self._end_sums = list(accumulate(self.ends, initial=0.0))

    def __len__(self) -> int:
        return len(self.starts)

    def attend(self, start: float, end: float) -> Attendance:
        """The attendance of [start, end)."""
        a, b = start - self.origin, end - self.origin
        first_start = bisect_right(self.starts, a)
        first_end = bisect_right(self.ends, a)
        open_at_start = first_start - first_end
        last_start = bisect_left(self.starts, b)
        return Attendance(
            start,
            end,
            sessions=open_at_start + last_start - first_start,
            listening_seconds=(
                _time_at_or_past(self.starts, self._start_sums, a, b)
                - _time_at_or_past(self.ends, self._end_sums, a, b)
            ),
            peak=self._peak(open_at_start, first_start, last_start, first_end, b),
        )

    def _peak(self, current: int, i: int, last_i: int, j: int, b: float) -> int:
        """The most open at once, from ``current`` open, walking the starts
        ``i`` to ``last_i`` and the ends from ``j`` that come before ``b``."""
        starts, ends = self.starts, self.ends
        peak = current
        while i < last_i:
            if j < len(ends) and ends[j] <= starts[i]:
                current -= 1
                j += 1
            else:
                current += 1
                i += 1
                peak = max(peak, current)
        return peak


def _time_at_or_past(
    times: list[float], sums: list[float], a: float, b: float
) -> float:
    """The integral over [a, b) of how many of ``times`` are at or before t."""
    before = bisect_right(times, a)
    within = bisect_left(times, b)
    return before * (b - a) + (within - before) * b - (sums[within] - sums[before])


def attendance(sessions: SessionTimes, spans: Sequence[Interval]) -> list[Attendance]:
    """The attendance of each of ``spans`` (any order; may overlap)."""
    return [sessions.attend(start, end) for start, end in spans]


def buckets(start: float, end: float, length: float) -> list[Interval]:
    """[start, end) cut into spans of ``length`` seconds; the last may be shorter."""
    spans = []
    moment = start
    while moment < end:
        spans.append((moment, min(moment + length, end)))
        moment += length
    return spans
