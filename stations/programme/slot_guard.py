"""Keeping a live DJ to their air time on a station that keeps DJs to their
slots: warnings before it ends, then off air after the overrun.

One task per broadcast, asleep until the next thing it has to do: it reads
the schedule when it wakes (so a slot edited meanwhile counts) and never on
the audio's path.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .slot_rules import NO_LIMIT, aair_time_end, overrun

logger = logging.getLogger(__name__)

# The DJ is warned this many minutes before their air time ends.
WARNING_MINUTES = (5, 1)
# The schedule is read at least this often, so that a slot edited to end
# sooner is seen in time; and again this soon after a failed read.
RECHECK_SECONDS = 60.0
RETRY_AFTER_ERROR_SECONDS = 5.0


@dataclass(frozen=True)
class SlotEnding:
    """A warning: the DJ's air time ends at ``ends_at``, in at most
    ``minutes_left`` (0: it has ended), and they go off air at ``off_air_at``."""

    ends_at: datetime
    off_air_at: datetime
    minutes_left: int


OnWarning = Callable[[SlotEnding], None]


class SlotGuard:
    """Warns live DJ ``user_id`` before their air time on the station ends
    (logged, and ``on_warning`` if given), and calls ``take_off_air``
    ``RADIO_SLOT_OVERRUN_MINUTES`` after it."""

    def __init__(
        self,
        *,
        station_id: int,
        user_id: int,
        dj: str,
        on_warning: OnWarning | None,
        take_off_air: Callable[[], Awaitable[None]],
    ) -> None:
        self._station_id = station_id
        self._user_id = user_id
        self._dj = dj
        self._on_warning = on_warning
        self._take_off_air = take_off_air
        self._end: datetime | None = None
        # The smallest of WARNING_MINUTES given for the end in ``_end``.
        self._warned_at = math.inf
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def cancel(self) -> None:
        """The broadcast has ended some other way: stop watching it."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _watch(self) -> None:
        while True:
            now = timezone.now()
            try:
                end = await self._read_end(now)
            except Exception:
                # The database may be back soon; the DJ stays on air meanwhile.
                logger.exception("Could not read %s's slot", self._dj)
                await asyncio.sleep(RETRY_AFTER_ERROR_SECONDS)
                continue
            if end == NO_LIMIT:
                return
            off_air_at = end + overrun()
            if now >= off_air_at:
                logger.info("%s's slot ended at %s; taking them off air", self._dj, end)
                await self._take_off_air()
                return
            self._warn(end, now)
            wake_at = min([off_air_at, *self._warnings_due_after(end, now)])
            await asyncio.sleep(min((wake_at - now).total_seconds(), RECHECK_SECONDS))

    async def _read_end(self, now: datetime) -> datetime:
        """The air time's end by the schedule now; with no slot around now
        (it was removed), now, or an end already passed."""
        end = await aair_time_end(self._station_id, self._user_id, now)
        if end is None:
            end = min(self._end or now, now)
        if end != self._end:
            self._end, self._warned_at = end, math.inf
        return end

    def _warn(self, end: datetime, now: datetime) -> None:
        left = end - now
        reached = [m for m in WARNING_MINUTES if left <= timedelta(minutes=m)]
        if not reached or min(reached) >= self._warned_at:
            return
        # Joining late gives one warning, the nearest, not all that passed.
        self._warned_at = min(reached)
        minutes = self._warned_at if left > timedelta(0) else 0
        logger.info("%s's slot ends at %s (%d min left)", self._dj, end, minutes)
        if self._on_warning is not None:
            self._on_warning(SlotEnding(end, end + overrun(), minutes))

    def _warnings_due_after(self, end: datetime, now: datetime) -> list[datetime]:
        return [
            end - timedelta(minutes=m)
            for m in WARNING_MINUTES
            if m < self._warned_at and end - timedelta(minutes=m) > now
        ]
