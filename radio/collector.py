"""Python's garbage collector, set for a worker holding many listeners.

A worker keeps many long-lived objects per listener. With Python's default
thresholds full collections come every few seconds and pause the worker for
about 70 ms per 1000 listeners (docs/PERFORMANCE.md); what is loaded by the
time the worker serves lives as long as the process and need not be looked
at again (``configure`` freezes it).

A closed connection is a cycle of daphne's, Twisted's and autobahn's objects
that only a collection of its generation frees. With ~40 s between young
collections under load, one in eight listeners who stay a few seconds are
moved on while still connected; the middle generation is collected every
fifth time so they are freed within minutes, not hours. Full collections may
follow every 20th of those, which Python runs only once a quarter of the
long-lived objects are new since the last: a steady audience pays nothing.

A steady audience may also never reach the young threshold: nearly
everything is freed by reference counting, and the few cycles that do arise
(exceptions' tracebacks, closed connections) then wait in memory for hours.
The hour's soak (docs/PERFORMANCE.md) saw no collection at all in the hour,
40,000 objects of garbage and RSS up 6 %. So the young and middle
generations are also collected on a clock (``start``): that bounds the
garbage to what a minute makes, and looks only at objects made since.
"""

from __future__ import annotations

import asyncio
import gc

GC_THRESHOLDS = (100_000, 5, 20)
YOUNG_COLLECTION_SECONDS = 60.0
# The middle generation: the young one and the objects that survived it.
MIDDLE_GENERATION = 1

# The loop keeps only a weak reference to a task: this one is kept here.
_running: set[asyncio.Task] = set()


def configure() -> None:
    """Freeze what is loaded and set the worker's thresholds."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def collect_young_garbage(interval: float = YOUNG_COLLECTION_SECONDS) -> None:
    """Every ``interval`` seconds, collect the young and middle generations."""
    while True:
        await asyncio.sleep(interval)
        gc.collect(MIDDLE_GENERATION)


def start() -> None:
    """Start the collections in the running loop (once per worker)."""
    _running.add(asyncio.get_running_loop().create_task(collect_young_garbage()))
