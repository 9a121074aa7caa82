"""radio/collector.py: young garbage is collected on a clock."""

from __future__ import annotations

import asyncio
import gc
import weakref

from radio.collector import GC_THRESHOLDS, collect_young_garbage


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref:
    """A reference cycle nothing else holds, and a way to see it go."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


async def test_a_cycle_is_freed_without_reaching_the_threshold():
    """With the worker's thresholds, a few cycles are never collected by
    allocation; the clock collects them."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    collector = asyncio.create_task(collect_young_garbage(interval=0.05))
    try:
        gc.collect()
        garbage = cycle()
        async with asyncio.timeout(5):
            while garbage() is not None:
                await asyncio.sleep(0.01)
    finally:
        collector.cancel()
        gc.set_threshold(*thresholds)


def test_without_the_clock_the_cycle_waits():
    """The reason for the clock: the worker's thresholds leave it in memory."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        gc.collect()
        garbage = cycle()
        for _ in range(1000):
            Node()
        assert garbage() is not None
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
