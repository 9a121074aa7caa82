"""What radio does with daphne's internals: a closed WebSocket's protocol is
freed as soon as nothing uses it, not by the cycle collector."""

from __future__ import annotations

import functools
import gc
import weakref

import pytest
import txaio
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

from radio.daphne import daphne_protocol, forget_closed_protocol


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
