"""What radio does with daphne's internals: a closed WebSocket's protocol is
freed as soon as nothing uses it, not by the cycle collector; the server
checks its connections a slice at a time."""

from __future__ import annotations

import asyncio
import functools
import gc
import time
import weakref

import pytest
import txaio
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet.task import Clock

from radio.daphne import (
    _check_application,
    _in_slices,
    daphne_protocol,
    forget_closed_protocol,
)


@pytest.fixture
def server() -> Server:
    txaio.use_twisted()
    return Server(application=None, endpoints=["tcp:port=0:interface=127.0.0.1"])


@pytest.fixture
def no_collector():
    gc.disable()
    yield
    gc.enable()


def closed_protocol() -> WebSocketProtocol:
    """A protocol as autobahn leaves it once the connection is lost."""
    protocol = WebSocketProtocol()
    protocol.state = protocol.STATE_CLOSED
    txaio.resolve(protocol.is_closed, protocol)
    return protocol


def test_a_closed_websocket_is_freed_without_the_collector(server, no_collector):
    protocol = closed_protocol()
    send = functools.partial(server.handle_reply, protocol)
    assert daphne_protocol(send) is protocol
    alive = weakref.ref(protocol)
    forget_closed_protocol(send)
    del protocol, send
    assert alive() is None


def test_without_it_the_protocol_outlives_its_last_reference(server, no_collector):
    """autobahn's cycle, which ``forget_closed_protocol`` breaks: once this
    fails, autobahn no longer makes it and the workaround can go."""
    protocol = closed_protocol()
    alive = weakref.ref(protocol)
    del protocol
    assert alive() is not None
    gc.collect()
    assert alive() is None


def test_an_open_websocket_is_left_alone(server):
    protocol = WebSocketProtocol()
    protocol.state = protocol.STATE_OPEN
    forget_closed_protocol(functools.partial(server.handle_reply, protocol))
    assert not protocol.is_closed.called


def test_a_send_that_is_not_daphne_s_is_ignored():
    async def send(message):
        pass

    forget_closed_protocol(send)
    forget_closed_protocol(None)


class Connection:
    """What the checks see of one of daphne's connections."""

    def __init__(self) -> None:
        self.checked = 0
        self.failures: list[BaseException] = []

    def handle_exception(self, exception: BaseException) -> None:
        self.failures.append(exception)

    def check(self) -> None:
        self.checked += 1


def test_each_connection_is_checked_once_a_round_a_slice_at_a_time(server):
    """Five ticks a round: each takes a fifth, and a round reaches every
    connection once; one gone before its turn is skipped, one that came
    meanwhile waits for the next round."""
    clock = Clock()
    connections = [Connection() for _ in range(25)]
    server.connections = {connection: {} for connection in connections}
    tick = _in_slices(
        server, lambda server, connection: connection.check(),
        period_s=1.0, slices=5, clock=clock,
    )  # fmt: skip
    gone = connections[0]
    del server.connections[gone]
    late = Connection()
    tick()
    assert sum(connection.checked for connection in connections) == 5
    for _ in range(4):
        clock.advance(0.2)
        server.connections[late] = {}
    assert [connection.checked for connection in connections[1:]] == [1] * 24
    assert (gone.checked, late.checked) == (0, 0)
    clock.advance(0.2)
    clock.advance(0.2)
    assert late.checked == 1


async def test_a_finished_application_is_reaped_and_its_closed_connection_forgotten(
    server,
):
    """As daphne's own checker: a failed application's error reaches its
    open connection; a closed connection whose application is done goes."""
    failed, closed = Connection(), Connection()
    error = RuntimeError("boom")
    server.connections = {
        failed: {"application_instance": finished(error)},
        closed: {"application_instance": finished(), "disconnected": time.time()},
    }
    _check_application(server, failed)
    _check_application(server, closed)
    assert failed.failures == [error]
    assert server.connections == {failed: {}}


async def test_an_application_outliving_its_connection_is_cancelled(server):
    """Cancelled once its connection has been closed for longer than
    ``application_close_timeout``, then forgotten with it."""
    connection = Connection()
    application = asyncio.get_running_loop().create_future()
    server.connections = {
        connection: {
            "application_instance": application,
            "disconnected": time.time() - server.application_close_timeout - 1,
        }
    }
    _check_application(server, connection)
    assert application.cancelled()
    assert server.connections == {}


def finished(exception: BaseException | None = None) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    if exception is None:
        future.set_result(None)
    else:
        future.set_exception(exception)
    return future
