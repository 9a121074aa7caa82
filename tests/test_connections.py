"""The cap on connections per client address (radio/connections.py), on the
ASGI middleware alone; tests/live/test_hostile_clients.py has it on daphne."""

from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator

from radio.connections import RETRY_AFTER_S, ConnectionsPerAddress
from radio.protocol import CLOSE_TOO_MANY_CONNECTIONS


async def held_open(scope, receive, send) -> None:
    """An application that answers, then holds the connection until it ends."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while (await receive())["type"] != "http.disconnect":
        pass


def stream(address: str) -> ApplicationCommunicator:
    scope = {"type": "http", "method": "GET", "path": "/", "client": [address, 1234]}
    return ApplicationCommunicator(ConnectionsPerAddress(held_open), scope)


async def status_of(communicator: ApplicationCommunicator) -> tuple[int, dict]:
    start = await communicator.receive_output(timeout=1)
    return start["status"], dict(start["headers"])


@pytest.fixture
def cap_of_two(settings):
    settings.RADIO_MAX_CONNECTIONS_PER_IP = 2


async def test_one_more_than_the_cap_gets_429_and_a_closed_one_makes_room(
    cap_of_two,
):
    """Two streams from one address are served, the third refused with 429
    and Retry-After; once one ends, the next is served again."""
    first, second, third = (stream("192.0.2.7") for _ in range(3))
    statuses = [(await status_of(c))[0] for c in (first, second)]
    refused, headers = await status_of(third)
    await first.send_input({"type": "http.disconnect"})
    await first.wait(timeout=1)
    fourth = stream("192.0.2.7")
    again, _ = await status_of(fourth)
    for communicator in (second, fourth):
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=1)

    assert statuses == [200, 200]
    assert (refused, headers[b"retry-after"]) == (429, str(RETRY_AFTER_S).encode())
    assert again == 200


async def test_an_ipv6_64_counts_as_one_address(cap_of_two):
    """Addresses of one /64 share the cap; another /64 has its own."""
    held = [stream("2001:db8::1"), stream("2001:db8::2")]
    for communicator in held:
        await status_of(communicator)
    same_network, _ = await status_of(stream("2001:db8::3"))
    other_network = stream("2001:db8:0:1::1")
    other, _ = await status_of(other_network)
    for communicator in (*held, other_network):
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=1)

    assert (same_network, other) == (429, 200)


async def test_a_websocket_over_the_cap_is_accepted_then_closed_4429(cap_of_two):
    """The refusal comes as a close code after the handshake, as every
    refusal of the protocol does."""
    sockets = [
        ApplicationCommunicator(
            ConnectionsPerAddress(held_open),
            {"type": "websocket", "path": "/ws/", "client": ["192.0.2.8", n]},
        )
        for n in range(3)
    ]
    outputs = []
    for socket in sockets:
        await socket.send_input({"type": "websocket.connect"})
        outputs.append(await socket.receive_output(timeout=1))
    close = await sockets[2].receive_output(timeout=1)
    for socket in sockets[:2]:
        await socket.send_input({"type": "websocket.disconnect", "code": 1000})
        await socket.wait(timeout=1)

    assert [output["type"] for output in outputs] == ["websocket.accept"] * 3
    assert close == {"type": "websocket.close", "code": CLOSE_TOO_MANY_CONNECTIONS}


async def test_a_cap_of_0_lets_every_connection_in(settings):
    """RADIO_MAX_CONNECTIONS_PER_IP=0: load tests from one address."""
    settings.RADIO_MAX_CONNECTIONS_PER_IP = 0
    held = [stream("127.0.0.1") for _ in range(60)]
    statuses = {(await status_of(communicator))[0] for communicator in held}
    for communicator in held:
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(timeout=1)

    assert statuses == {200}
