"""The drain of a stopping worker (radio/shutdown.py), without daphne.

tests/live/test_restarts.py stops real workers; these pin the drain's own
rules: every connection is ended and waited for, the wait is bounded, and
a connection that opens during the drain is ended at once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from radio import shutdown


@pytest.fixture(autouse=True)
def fresh_worker(monkeypatch):
    """Each test drains a worker of its own: the state is the module's."""
    monkeypatch.setattr(shutdown, "_open", {})
    monkeypatch.setattr(shutdown, "_hooks", [])
    monkeypatch.setattr(shutdown, "_draining", False)
    monkeypatch.setattr(shutdown, "_all_gone", None)


class Connection:
    """Closes a moment after it is asked to, as a socket's handshake does."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        shutdown.track(self, self.end)

    async def end(self) -> None:
        self.ended.set()
        asyncio.get_running_loop().call_later(0.05, shutdown.forget, self)


async def test_the_drain_ends_every_connection_and_waits_for_it_to_close():
    """drain returns once the connections it ended have closed, and the
    hooks have run."""
    connections = [Connection() for _ in range(3)]
    handed_over = asyncio.Event()

    async def hand_over() -> None:
        handed_over.set()

    shutdown.on_drain(hand_over)
    await shutdown.drain(timeout_s=5)
    assert all(connection.ended.is_set() for connection in connections)
    assert handed_over.is_set()
    assert shutdown._open == {}


async def test_the_drain_gives_up_on_a_connection_that_never_closes():
    """A connection that does not close keeps the worker at most the timeout."""

    async def ignored() -> None:
        pass

    shutdown.track(object(), ignored)
    started = time.monotonic()
    await shutdown.drain(timeout_s=0.2)
    assert time.monotonic() - started < 2


async def test_a_connection_opened_while_draining_is_ended_at_once():
    """A connection the server accepted just before it stopped listening
    is let go too."""
    draining = asyncio.create_task(shutdown.drain(timeout_s=5))
    await asyncio.sleep(0)
    late = Connection()
    await asyncio.wait_for(late.ended.wait(), 5)
    await asyncio.wait_for(draining, 5)
