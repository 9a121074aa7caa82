"""Each worker's dispatcher: claims due deliveries and sends them, a few at
a time, never on the path of audio or of a request; and runs the watchers.

Started once the server serves (``radio/asgi.py``). Every worker runs one;
the claims in ``outbox`` make each attempt one worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx
from django.conf import settings

from stations.runtime import get_bus, run_in_background
from stations.streaming.bus import StationBus

from . import addresses, outbox, triggers
from .models import Delivery
from .payloads import request_for
from .sender import client, send

logger = logging.getLogger(__name__)

# Deliveries one worker sends at once; more wait for a free place.
MAX_IN_FLIGHT = 16
# How often the log is pruned.
PRUNE_EVERY_S = 600.0


class Dispatcher:
    """Sends this worker's share of the deliveries."""

    def __init__(self, bus: StationBus) -> None:
        self.bus = bus
        self.wake = asyncio.Event()
        self._in_flight: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None
        self._watch_at = self._prune_at = 0.0

    async def run(self) -> None:
        self._http = client()
        stop_waking = triggers.when_queued(self.wake.set)
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    logger.exception("The webhook dispatcher failed a round")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(settings.RADIO_WEBHOOK_POLL_SECONDS):
                        await self.wake.wait()
                self.wake.clear()
        finally:
            stop_waking()
            await self._http.aclose()

    async def tick(self) -> None:
        """One round: what is hooked, the watchers when due, the due sends."""
        await triggers.ahooked_refresh()
        now = time.monotonic()
        if now >= self._watch_at:
            self._watch_at = now + settings.RADIO_WEBHOOK_WATCH_SECONDS
            await triggers.watch_stations(self.bus)
        if now >= self._prune_at:
            self._prune_at = now + PRUNE_EVERY_S
            await outbox.adeliveries_prune()
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room > 0:
            for delivery in await outbox.adeliveries_claim(limit=room):
                task = asyncio.get_running_loop().create_task(self.deliver(delivery))
                self._in_flight.add(task)
                task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        self.wake.set()

    async def deliver(self, delivery: Delivery) -> None:
        """One attempt at ``delivery``, and its outcome written."""
        webhook = delivery.webhook
        outgoing = request_for(webhook, delivery.pk, delivery.payload)
        try:
            answer = await send(self._http, outgoing)
        except addresses.UnsafeTarget as problem:
            await outbox.adelivery_attempt_failed(delivery, error=str(problem))
            return
        except TimeoutError:
            error = f"No answer within {settings.RADIO_WEBHOOK_TIMEOUT_SECONDS} s."
            await outbox.adelivery_attempt_failed(delivery, error=error)
            return
        except httpx.HTTPError as problem:
            error = f"{type(problem).__name__}: {problem}"
            await outbox.adelivery_attempt_failed(delivery, error=error)
            return
        if answer.ok:
            await outbox.adelivery_succeeded(delivery, response_status=answer.status)
        else:
            await outbox.adelivery_attempt_failed(
                delivery,
                error=f"HTTP {answer.status}: {answer.text}",
                response_status=answer.status,
                retry_after_s=answer.retry_after_s,
            )


def start() -> asyncio.Task:
    """Run this worker's dispatcher on the running loop."""
    return run_in_background(Dispatcher(get_bus()).run())
