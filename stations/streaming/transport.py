"""Writing a station's output to one client, without letting it pile up.

daphne's ASGI ``send`` returns at once and buffers without limit (daphne
#170), so a listener that stops reading would grow the server's memory for
ever. Under daphne the connection's Twisted transport tells when its write
buffer passes 64 KiB, through the standard ``IPushProducer`` pause/resume
calls; a :class:`FlowSignal` registered as the producer turns those into
``writable``. Audio for a connection that is not writable is skipped, so a
stalled listener costs one transport buffer and nobody else waits for it.

Under any other ASGI server (and in ``WebsocketCommunicator`` tests) a
bounded queue drained by a task plays the same part.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from abc import ABC, abstractmethod
from collections import deque
from typing import Any

from autobahn.websocket.protocol import PreparedMessage

from radio.daphne import AsgiSend, daphne_protocol

from .packets import AudioBatch

logger = logging.getLogger(__name__)

# The generic writer stops taking audio once this much is queued.
QUEUED_BYTES_LIMIT = 256 * 1024
# The kernel's send buffer of a listener's socket. Linux otherwise grows it
# by itself up to tcp_wmem's maximum (megabytes), which hides a stalled
# listener from the flow control for tens of seconds while its audio piles
# up in the kernel. Linux doubles the value for its own bookkeeping.
LISTENER_SEND_BUFFER_BYTES = 64 * 1024


class Transport(ABC):
    """One client connection that audio and events are written to."""

    @property
    @abstractmethod
    def writable(self) -> bool:
        """False while the client is not keeping up; skip audio then."""

    @abstractmethod
    def send_binary(self, data: bytes) -> None:
        """Queue a binary WebSocket message or a chunk of HTTP body."""

    @abstractmethod
    def send_text(self, text: str) -> None:
        """Queue a text WebSocket message."""

    def send_audio(self, batch: AudioBatch, lead: str | None = None) -> None:
        """Queue each packet of ``batch`` as a binary WebSocket message,
        after the text message ``lead`` if any."""
        if lead is not None:
            self.send_text(lead)
        for packet in batch.packets:
            self.send_binary(packet.wire)

    async def drain(self) -> None:  # noqa: B027 - most transports write at once
        """Wait until what was sent so far has been handed to the server."""

    async def aclose(self) -> None:  # noqa: B027 - most transports hold nothing
        """Release what the transport holds; the connection stays as it is."""


# --- daphne ----------------------------------------------------------------


def limit_send_buffer(transport: Any) -> None:
    """Give a Twisted TCP transport's socket a fixed, small send buffer."""
    with contextlib.suppress(OSError, AttributeError):
        transport.getHandle().setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, LISTENER_SEND_BUFFER_BYTES
        )


class FlowSignal:
    """An ``IPushProducer`` that only records whether writing may go on."""

    def __init__(self) -> None:
        self.paused = False

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False

    def stopProducing(self) -> None:
        self.paused = True


class DaphneWebSocket(Transport):
    """Writes straight to a daphne WebSocket connection.

    Every listener gets the same audio message, so it is framed once and
    shared (autobahn's ``PreparedMessage``, made for broadcast), and written
    to the socket at once when nothing is waiting before it (see
    :func:`write_now`).
    """

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._flow = FlowSignal()
        self._transport = transport = protocol.transport
        # daphne leaves the upgraded HTTP channel registered as the
        # producer; this connection no longer has an HTTP side to pause.
        if transport.producer is not None:
            transport.unregisterProducer()
        transport.registerProducer(self._flow, True)
        limit_send_buffer(transport)

    @property
    def writable(self) -> bool:
        return not self._flow.paused and self._is_open()

    def send_binary(self, data: bytes) -> None:
        if self._is_open():
            write_now(self._transport, framed(data, binary=True))

    def send_audio(self, batch: AudioBatch, lead: str | None = None) -> None:
        if self._is_open():
            write_now(self._transport, framed_audio(batch, lead))

    def send_text(self, text: str) -> None:
        if self._is_open():
            write_now(self._transport, framed(text, binary=False))

    def _is_open(self) -> bool:
        return self._protocol.state == self._protocol.STATE_OPEN


def write_now(transport: Any, data: bytes) -> None:
    """Write ``data`` to a Twisted TCP transport, to the socket if it can.

    ``transport.write()`` only queues: the reactor then watches the socket
    for writability, sends, and stops watching, which costs two ``epoll_ctl``
    calls and a reactor round per write. With thousands of listeners that is
    most of a core, so when nothing is queued before it, ``data`` goes to
    the socket straight away (``writeSomeData`` is Twisted's own immediate
    send) and only what the socket did not take is queued. TLS connections
    keep Twisted's path: their bytes must be encrypted first.
    """
    if (
        not getattr(transport, "TLS", True)
        and transport.connected
        and not transport.disconnecting
        and not transport.dataBuffer
        and not transport._tempDataLen
    ):
        sent = transport.writeSomeData(data)
        if isinstance(sent, BaseException):
            # The connection is lost; Twisted notices when it next reads.
            return
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


@functools.lru_cache(maxsize=8)
def framed(data: bytes | str, *, binary: bool) -> bytes:
    """``data`` as one WebSocket frame, framed once for every listener.

    The cache holds the last few messages: a fan-out sends one message to
    every listener before it moves on to the next.
    """
    payload = data if binary else data.encode()
    message = PreparedMessage(
        payload, isBinary=binary, applyMask=False, doNotCompress=True
    )
    return message.payloadHybi


@functools.lru_cache(maxsize=4)
def framed_audio(batch: AudioBatch, lead: str | None = None) -> bytes:
    """The packets of ``batch`` as consecutive binary WebSocket frames, after
    the text message ``lead`` if any, for one write to each listener."""
    frames = [framed(packet.wire, binary=True) for packet in batch.packets]
    if lead is not None:
        frames.insert(0, framed(lead, binary=False))
    return b"".join(frames)


class DaphneHttpBody(Transport):
    """Writes the body of a streaming HTTP response straight to its socket.

    The first chunk goes through daphne, which writes the headers and
    decides on chunked encoding; the rest skip daphne and Twisted's request
    (a Python call chain per chunk) and go to :func:`write_now` as Twisted
    would have framed them.
    """

    def __init__(self, request: Any) -> None:
        self._request = request
        self._flow = FlowSignal()
        request.registerProducer(self._flow, True)
        limit_send_buffer(request.channel.transport)

    @property
    def writable(self) -> bool:
        return not self._flow.paused and not self._request.finished

    def send_binary(self, data: bytes) -> None:
        request = self._request
        if not request.startedWriting or request.finished or request.channel is None:
            request.handle_reply(
                {"type": "http.response.body", "body": data, "more_body": True}
            )
            return
        request.sentLength += len(data)
        if request.chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        write_now(request.channel.transport, data)

    def send_text(self, text: str) -> None:
        raise TypeError("An HTTP stream carries no text messages.")

    async def aclose(self) -> None:
        # A request whose connection is gone has already dropped its channel.
        if self._request.channel is not None and self._request.producer is self._flow:
            self._request.unregisterProducer()


# --- any ASGI server -------------------------------------------------------


class QueuedTransport(Transport):
    """Writes through the ASGI ``send`` from a task of its own."""

    def __init__(self, send: AsgiSend, *, http: bool) -> None:
        self._send = send
        self._http = http
        self._queue: deque[dict[str, Any]] = deque()
        self._queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        # A message taken from the queue is being handed to ``send``.
        self._sending = False
        self._task = asyncio.get_running_loop().create_task(self._drain())

    @property
    def writable(self) -> bool:
        return self._queued_bytes < QUEUED_BYTES_LIMIT and not self._task.done()

    def send_binary(self, data: bytes) -> None:
        if self._http:
            self._put({"type": "http.response.body", "body": data, "more_body": True})
        else:
            self._put({"type": "websocket.send", "bytes": data})
        self._queued_bytes += len(data)

    def send_text(self, text: str) -> None:
        self._put({"type": "websocket.send", "text": text})

    async def drain(self) -> None:
        while (self._queue or self._sending) and not self._task.done():
            self._drained.clear()
            await self._drained.wait()

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def _put(self, message: dict[str, Any]) -> None:
        self._queue.append(message)
        self._wakeup.set()

    async def _drain(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                message = self._queue.popleft()
                self._queued_bytes -= len(
                    message.get("bytes") or message.get("body", b"")
                )
                self._sending = True
                try:
                    await self._send(message)
                except Exception:
                    logger.info("Stopped writing to a client that went away.")
                    self._drained.set()
                    return
                finally:
                    self._sending = False
            self._drained.set()


def websocket_transport(send: AsgiSend) -> Transport:
    """The best transport for a WebSocket connection's raw ASGI ``send``."""
    protocol = daphne_protocol(send)
    if protocol is not None:
        return DaphneWebSocket(protocol)
    return QueuedTransport(send, http=False)


def http_body_transport(send: AsgiSend) -> Transport:
    """The best transport for a streaming HTTP response's raw ASGI ``send``."""
    request = daphne_protocol(send)
    if request is not None:
        return DaphneHttpBody(request)
    return QueuedTransport(send, http=True)
