"""An API answer is built once per interval and key, and once for all the
requests that come while it is being built."""

from __future__ import annotations

import asyncio

from stations.api.cache import abuilt_once

REQUESTS = 20


class CountingBuild:
    """A build that counts its runs and, given a gate, waits for it."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.gate = gate

    async def __call__(self) -> int:
        self.runs += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.runs


async def test_requests_during_a_build_wait_for_it(settings):
    # Nothing is kept: only the build under way is shared.
    settings.RADIO_API_CACHE_SECONDS = 0
    gate = asyncio.Event()
    build = CountingBuild(gate)

    waiting = [asyncio.create_task(abuilt_once("k", build)) for _ in range(REQUESTS)]
    await build.started.wait()
    gate.set()

    assert await asyncio.gather(*waiting) == [1] * REQUESTS
    assert await abuilt_once("k", build) == 2


async def test_an_answer_is_kept_for_the_interval_per_key(settings):
    settings.RADIO_API_CACHE_SECONDS = 60
    build = CountingBuild()

    answers = [await abuilt_once(key, build) for key in ("a", "a", "b", "a")]

    assert answers == [1, 1, 2, 1]


async def test_a_request_that_goes_away_does_not_cancel_the_build(settings):
    settings.RADIO_API_CACHE_SECONDS = 60
    gate = asyncio.Event()
    build = CountingBuild(gate)
    leaving = asyncio.create_task(abuilt_once("k", build))
    staying = asyncio.create_task(abuilt_once("k", build))
    await build.started.wait()

    leaving.cancel()
    gate.set()

    assert await staying == 1
