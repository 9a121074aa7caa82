"""Writing to one client: the queued ASGI writer and the daphne fast path."""

from __future__ import annotations

import asyncio
import functools
import logging

import pytest

from radio.daphne import daphne_protocol, send_close_frame
from stations.streaming.packets import AudioBatch, AudioPacket
from stations.streaming.transport import (
    QUEUED_BYTES_LIMIT,
    QueuedTransport,
    framed,
    http_body_transport,
    websocket_transport,
    write_now,
)

# A negative check (something did not happen) waits this long.
NOT_HAPPENING_WAIT_S = 0.05


class RecordingSend:
    """An ASGI ``send`` that keeps the messages; blocks while ``gate`` is shut."""

    def __init__(self, *, open_gate: bool = True, fail: bool = False) -> None:
        self.messages: list[dict] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.cancelled = False
        self.fail = fail
        if open_gate:
            self.gate.set()

    async def __call__(self, message: dict) -> None:
        self.entered.set()
        if self.fail:
            raise ConnectionResetError("the client went away")
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.messages.append(message)


@pytest.fixture
async def closing():
    """Closes the transports a test made."""
    made: list[QueuedTransport] = []
    yield made.append
    for transport in made:
        await transport.aclose()


def queued(send, closing, *, http: bool = False) -> QueuedTransport:
    transport = QueuedTransport(send, http=http)
    closing(transport)
    return transport


# --- QueuedTransport -------------------------------------------------------


async def test_not_writable_once_the_queue_holds_the_limit(closing):
    """Audio is refused at QUEUED_BYTES_LIMIT queued bytes, taken again once sent."""
    send = RecordingSend()
    transport = queued(send, closing)
    transport.send_binary(b"x" * (QUEUED_BYTES_LIMIT - 1))
    assert transport.writable is True
    transport.send_binary(b"x")
    assert transport.writable is False
    await transport.drain()
    assert transport.writable is True
    assert [len(m["bytes"]) for m in send.messages] == [QUEUED_BYTES_LIMIT - 1, 1]


async def test_messages_are_sent_in_the_order_written(closing):
    """Text and binary messages keep their order on a WebSocket."""
    send = RecordingSend()
    transport = queued(send, closing)
    transport.send_text("one")
    transport.send_binary(b"two")
    transport.send_text("three")
    await transport.drain()
    assert send.messages == [
        {"type": "websocket.send", "text": "one"},
        {"type": "websocket.send", "bytes": b"two"},
        {"type": "websocket.send", "text": "three"},
    ]


async def test_an_http_stream_sends_body_chunks_with_more_to_come(closing):
    """For HTTP, binary data goes out as http.response.body with more_body."""
    send = RecordingSend()
    transport = queued(send, closing, http=True)
    transport.send_binary(b"mp3")
    await transport.drain()
    assert send.messages == [
        {"type": "http.response.body", "body": b"mp3", "more_body": True}
    ]


async def test_drain_waits_for_queued_messages(closing):
    """drain() returns only once the messages queued behind a slow send are sent."""
    send = RecordingSend(open_gate=False)
    transport = queued(send, closing)
    transport.send_text("first")
    await send.entered.wait()
    transport.send_text("second")

    drain = asyncio.create_task(transport.drain())
    done, _ = await asyncio.wait([drain], timeout=NOT_HAPPENING_WAIT_S)
    assert not done

    send.gate.set()
    await drain
    assert [m["text"] for m in send.messages] == ["first", "second"]


async def test_drain_waits_for_the_message_being_sent(closing):
    """drain() does not return while the last message is still being sent."""
    send = RecordingSend(open_gate=False)
    transport = queued(send, closing)
    transport.send_text("last")
    await send.entered.wait()

    drain = asyncio.create_task(transport.drain())
    done, _ = await asyncio.wait([drain], timeout=NOT_HAPPENING_WAIT_S)
    send.gate.set()
    await drain
    assert not done


async def test_aclose_cancels_a_send_in_progress(closing):
    """aclose() does not wait for a stuck client; the transport stops taking audio."""
    send = RecordingSend(open_gate=False)
    transport = queued(send, closing)
    transport.send_text("stuck")
    await send.entered.wait()
    await transport.aclose()
    assert send.cancelled is True
    assert transport.writable is False
    await transport.drain()  # returns at once: nothing is left to write it


async def test_a_failing_send_stops_the_transport_quietly(closing, caplog):
    """A client gone away ends the writer with an info line, no traceback."""
    send = RecordingSend(fail=True)
    transport = queued(send, closing)
    with caplog.at_level(logging.INFO, logger="stations.streaming.transport"):
        transport.send_text("hello")
        transport.send_text("anyone?")
        await transport.drain()
    assert transport.writable is False
    assert send.messages == []
    assert [(r.levelno, r.exc_info) for r in caplog.records] == [(logging.INFO, None)]


async def test_non_daphne_servers_get_a_queued_transport(closing):
    """Under any other ASGI server both factories make a QueuedTransport."""
    send = RecordingSend()
    for transport in (websocket_transport(send), http_body_transport(send)):
        closing(transport)
        assert isinstance(transport, QueuedTransport)


# --- daphne ----------------------------------------------------------------


class FakeServer:
    """Stands in for daphne.server.Server, whose handle_reply daphne hands out."""

    def handle_reply(self, protocol, message):
        pass


class FakeDaphneServer(FakeServer):
    pass


FakeDaphneServer.__module__ = "daphne.server"


class FakeWebSocketProtocol:
    STATE_OPEN = 1
    STATE_CLOSING = 2

    def __init__(self, state: int) -> None:
        self.state = state
        self.close_frames: list[int] = []

    def sendCloseFrame(self, code: int) -> None:
        self.close_frames.append(code)


async def plain_send(message: dict) -> None:
    pass


def test_daphne_protocol_is_none_for_other_servers():
    """A plain coroutine, or a partial of anything but daphne's server, is no daphne."""
    assert daphne_protocol(plain_send) is None
    protocol = FakeWebSocketProtocol(FakeWebSocketProtocol.STATE_OPEN)
    assert daphne_protocol(functools.partial(FakeServer().handle_reply, protocol)) is (
        None
    )


def test_daphne_protocol_is_found_behind_daphnes_partial():
    """daphne's partial(server.handle_reply, protocol) gives the protocol."""
    protocol = FakeWebSocketProtocol(FakeWebSocketProtocol.STATE_OPEN)
    send = functools.partial(FakeDaphneServer().handle_reply, protocol)
    assert daphne_protocol(send) is protocol


def test_send_close_frame_is_false_without_daphne():
    """Without daphne the caller must close through ASGI."""
    assert send_close_frame(plain_send, 1009) is False


def test_send_close_frame_sends_any_code_to_an_open_daphne_socket():
    """An open daphne WebSocket gets the close frame; a closing one nothing more."""
    open_socket = FakeWebSocketProtocol(FakeWebSocketProtocol.STATE_OPEN)
    closing_socket = FakeWebSocketProtocol(FakeWebSocketProtocol.STATE_CLOSING)
    for protocol in (open_socket, closing_socket):
        send = functools.partial(FakeDaphneServer().handle_reply, protocol)
        assert send_close_frame(send, 1009) is True
    assert open_socket.close_frames == [1009]
    assert closing_socket.close_frames == []


def parse_frame(frame: bytes) -> tuple[int, bool, bytes]:
    """(opcode, masked, payload) of one whole WebSocket frame (RFC 6455 5.2)."""
    first, second = frame[0], frame[1]
    assert first & 0x80, "FIN must be set"
    assert first & 0x70 == 0, "no RSV bits without extensions"
    length, offset = second & 0x7F, 2
    if length == 126:
        length, offset = int.from_bytes(frame[2:4], "big"), 4
    elif length == 127:
        length, offset = int.from_bytes(frame[2:10], "big"), 10
    masked = bool(second & 0x80)
    if masked:
        offset += 4
    payload = frame[offset:]
    assert len(payload) == length, "the frame holds exactly its payload"
    return first & 0x0F, masked, payload


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_framed_binary_is_one_unmasked_binary_frame(size):
    """Servers never mask; every length encoding gives the payload back whole."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    opcode, masked, parsed = parse_frame(framed(payload, binary=True))
    assert (opcode, masked, parsed) == (0x2, False, payload)


def test_framed_text_is_one_unmasked_utf8_text_frame():
    """Text is framed as UTF-8 with the text opcode."""
    text = '{"type":"chat","text":"héllo ♫"}'
    assert parse_frame(framed(text, binary=False)) == (0x1, False, text.encode())


def test_framed_frames_a_message_once_for_every_listener():
    """The same message framed again is the very same bytes object."""
    message = b"\x00" * 1000 + b"one message for everyone"
    assert framed(message, binary=True) is framed(message, binary=True)


class FakeTcpTransport:
    """The parts of a Twisted TCP transport write_now looks at."""

    def __init__(self, *, tls: bool = False, takes: int | None = None) -> None:
        self.TLS = tls
        self.connected = True
        self.disconnecting = False
        self.dataBuffer = b""
        self._tempDataLen = 0
        self.takes = takes  # bytes the socket accepts; None for all
        self.lost = False
        self.to_socket: list[bytes] = []
        self.queued: list[bytes] = []

    def writeSomeData(self, data: bytes) -> int | BaseException:
        if self.lost:
            return ConnectionResetError()
        taken = data if self.takes is None else data[: self.takes]
        self.to_socket.append(taken)
        return len(taken)

    def write(self, data: bytes) -> None:
        self.queued.append(data)


def test_write_now_writes_straight_when_nothing_is_queued():
    """With an empty buffer the data goes to the socket, not the reactor."""
    tcp = FakeTcpTransport()
    write_now(tcp, b"frame")
    assert (tcp.to_socket, tcp.queued) == ([b"frame"], [])


def test_write_now_queues_what_the_socket_did_not_take():
    """A partial write queues the rest, in order."""
    tcp = FakeTcpTransport(takes=2)
    write_now(tcp, b"frame")
    assert (tcp.to_socket, tcp.queued) == ([b"fr"], [b"ame"])


@pytest.mark.parametrize("queued_before", ["dataBuffer", "_tempDataLen"])
def test_write_now_queues_behind_what_is_already_queued(queued_before):
    """Data never overtakes bytes still waiting in Twisted's buffers."""
    tcp = FakeTcpTransport()
    setattr(tcp, queued_before, b"waiting" if queued_before == "dataBuffer" else 7)
    write_now(tcp, b"frame")
    assert (tcp.to_socket, tcp.queued) == ([], [b"frame"])


def test_write_now_lets_tls_go_through_write():
    """TLS bytes must be encrypted first: they go through write()."""
    tcp = FakeTcpTransport(tls=True)
    write_now(tcp, b"frame")
    assert (tcp.to_socket, tcp.queued) == ([], [b"frame"])


def test_write_now_drops_data_for_a_lost_connection():
    """A lost connection takes nothing and queues nothing."""
    tcp = FakeTcpTransport()
    tcp.lost = True
    write_now(tcp, b"frame")
    assert tcp.queued == []


def test_write_now_leaves_a_disconnecting_transport_to_twisted():
    """A disconnecting transport gets write(), which Twisted then ignores."""
    tcp = FakeTcpTransport()
    tcp.disconnecting = True
    write_now(tcp, b"frame")
    assert (tcp.to_socket, tcp.queued) == ([], [b"frame"])


class FakeTwistedConnection(FakeTcpTransport):
    """A TCP transport that also takes a producer, as Twisted's does."""

    def __init__(self) -> None:
        super().__init__()
        self.producer = object()  # daphne's HTTP channel, left registered
        self.streaming = None

    def registerProducer(self, producer, streaming: bool) -> None:
        self.producer, self.streaming = producer, streaming

    def unregisterProducer(self) -> None:
        self.producer = None

    def getHandle(self):
        raise AttributeError("no socket in a test")


class FakeDaphneWebSocket(FakeWebSocketProtocol):
    def __init__(self) -> None:
        super().__init__(FakeWebSocketProtocol.STATE_OPEN)
        self.transport = FakeTwistedConnection()


def daphne_websocket() -> tuple[object, FakeDaphneWebSocket]:
    protocol = FakeDaphneWebSocket()
    send = functools.partial(FakeDaphneServer().handle_reply, protocol)
    return websocket_transport(send), protocol


def test_a_daphne_websocket_replaces_the_http_producer_with_its_flow_signal():
    """Twisted's pause and resume calls decide whether audio is taken."""
    transport, protocol = daphne_websocket()
    flow = protocol.transport.producer
    assert protocol.transport.streaming is True
    assert transport.writable is True
    flow.pauseProducing()
    assert transport.writable is False
    flow.resumeProducing()
    assert transport.writable is True


def test_a_daphne_websocket_writes_frames_straight_to_the_socket():
    """Messages are framed once and written to the socket in order."""
    transport, protocol = daphne_websocket()
    transport.send_text("hello")
    transport.send_binary(b"\x00\x01")
    assert protocol.transport.to_socket == [
        framed("hello", binary=False),
        framed(b"\x00\x01", binary=True),
    ]


def test_a_batch_goes_to_the_socket_in_one_write_as_one_message_a_packet():
    """A batch's packets are written at once, each its own binary message."""
    transport, protocol = daphne_websocket()
    packets = [
        AudioPacket.build(seq=seq, ingest_ms=0, duration_ms=100, frames=b"mp3" * seq)
        for seq in (7, 8, 9)
    ]
    transport.send_audio(AudioBatch(tuple(packets)))
    [written] = protocol.transport.to_socket
    messages = [parse_frame(frame) for frame in split_frames(written)]
    assert messages == [(0x2, False, packet.wire) for packet in packets]


def test_a_message_leading_a_batch_shares_its_write():
    """A text message sent with a batch comes first, in the same write."""
    transport, protocol = daphne_websocket()
    packet = AudioPacket.build(seq=7, ingest_ms=0, duration_ms=100, frames=b"mp3")
    transport.send_audio(AudioBatch((packet,)), '{"type":"listeners","count":4}')
    [written] = protocol.transport.to_socket
    messages = [parse_frame(frame) for frame in split_frames(written)]
    assert messages == [
        (0x1, False, b'{"type":"listeners","count":4}'),
        (0x2, False, packet.wire),
    ]


def split_frames(data: bytes) -> list[bytes]:
    """Consecutive unmasked WebSocket frames, each whole."""
    frames = []
    while data:
        length, offset = data[1] & 0x7F, 2
        if length == 126:
            length, offset = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(data[2:10], "big"), 10
        frames.append(data[: offset + length])
        data = data[offset + length :]
    return frames


def test_a_closing_daphne_websocket_takes_nothing():
    """Once the socket is closing nothing more is written and audio is refused."""
    transport, protocol = daphne_websocket()
    protocol.state = FakeWebSocketProtocol.STATE_CLOSING
    transport.send_text("too late")
    assert transport.writable is False
    assert protocol.transport.to_socket == protocol.transport.queued == []


class FakeDaphneRequest:
    """daphne's WebRequest as a streaming HTTP body sees it."""

    def __init__(self) -> None:
        self.channel = type("Channel", (), {"transport": FakeTwistedConnection()})()
        self.producer = None
        self.finished = False
        self.startedWriting = 0
        self.chunked = 0
        self.sentLength = 0
        self.replies: list[dict] = []

    def registerProducer(self, producer, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def handle_reply(self, message: dict) -> None:
        self.replies.append(message)


async def test_a_daphne_http_body_streams_chunks_and_lets_go_on_close():
    """Body chunks go to daphne at once; aclose() unregisters the flow signal."""
    request = FakeDaphneRequest()
    send = functools.partial(FakeDaphneServer().handle_reply, request)
    transport = http_body_transport(send)
    transport.send_binary(b"mp3")
    assert request.replies == [
        {"type": "http.response.body", "body": b"mp3", "more_body": True}
    ]
    with pytest.raises(TypeError):
        transport.send_text("no text in an HTTP stream")
    request.producer.pauseProducing()
    assert transport.writable is False
    await transport.aclose()
    assert request.producer is None


@pytest.mark.parametrize(
    ("chunked", "on_the_wire"), [(1, b"3\r\nmp3\r\n"), (0, b"mp3")]
)
def test_a_started_http_body_goes_straight_to_the_socket(chunked, on_the_wire):
    """Once daphne has written the headers, chunks skip it, framed as
    Twisted would frame them."""
    request = FakeDaphneRequest()
    request.startedWriting, request.chunked = 1, chunked
    send = functools.partial(FakeDaphneServer().handle_reply, request)
    transport = http_body_transport(send)
    transport.send_binary(b"mp3")
    assert request.replies == []
    assert request.channel.transport.to_socket == [on_the_wire]
    assert request.sentLength == 3
