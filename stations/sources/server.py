"""The source ports: where DJs' desktop encoders connect.

daphne hands a request body to the application only once it is complete,
so an endless source upload never reaches Django. Each daphne worker runs
these plain asyncio servers beside it instead: Icecast's protocol on
``RADIO_SOURCE_PORT`` and Shoutcast v1's on the port after it. The sockets
are opened with ``SO_REUSEPORT``, so every worker of a machine shares them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from django.conf import settings

from listeners.throttle import address_key
from radio import shutdown
from stations.runtime import run_in_background

from .connection import BadProxyLine, Connection, Gate, parse_proxy_line
from .head import error_response
from .icecast import serve_icecast
from .shoutcast import serve_shoutcast

logger = logging.getLogger(__name__)

# How long a closing socket may take to hand its last bytes to the kernel.
CLOSE_TIMEOUT_S = 5.0
# How long a closing socket takes in what its client still sends.
LINGER_S = 1.0
READ_BYTES = 64 * 1024

Protocol = Callable[[Connection], Awaitable[None]]


async def _serve(protocol: Protocol, gate: Gate, reader, writer) -> None:
    if not gate.admit():
        writer.write(error_response(503, "Too many sources are connecting."))
        await _close(reader, writer)
        return
    connection = Connection(reader, writer, address=_peer(writer), gate=gate)
    try:
        if settings.RADIO_SOURCE_PROXY_PROTOCOL:
            connection.address = await _proxied_address(reader) or connection.address
        connection.address = address_key(connection.address)
        await protocol(connection)
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, BadProxyLine):
        pass
    except Exception:
        logger.exception("A source connection from %s failed", connection.address)
    finally:
        connection.authenticated()
        await _close(reader, writer)


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close so that the client reads the answer: a socket closed with
    input unread is reset, and a reset can take the answer with it. So stop
    writing, take in what the client still sends for a moment, then close.
    A client that has gone already (ENOTCONN is an OSError, not a
    ConnectionError) is simply closed."""
    with contextlib.suppress(OSError, TimeoutError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER_S):
            while await reader.read(READ_BYTES):
                pass
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await writer.wait_closed()


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return peer[0] if peer else ""


async def _proxied_address(reader: asyncio.StreamReader) -> str | None:
    """The client's address, from the proxy's PROXY protocol line."""
    async with asyncio.timeout(settings.RADIO_SOURCE_HEADER_TIMEOUT_SECONDS):
        line = await reader.readuntil(b"\n")
    return parse_proxy_line(line)


async def open_source_ports(*, host: str, port: int) -> list[asyncio.Server]:
    """Listen for Icecast sources on ``port`` and Shoutcast v1 on ``port + 1``."""
    gate = Gate(settings.RADIO_MAX_PENDING_SOURCES)
    servers = []
    for protocol, number in ((serve_icecast, port), (serve_shoutcast, port + 1)):
        server = await asyncio.start_server(
            partial(_serve, protocol, gate), host, number, reuse_port=True
        )
        servers.append(server)
    return servers


async def _run() -> None:
    port = settings.RADIO_SOURCE_PORT
    host = settings.RADIO_SOURCE_HOST
    try:
        servers = await open_source_ports(host=host, port=port)
    except OSError as problem:
        logger.error("Cannot take sources on %s:%s: %s", host, port, problem)
        return
    logger.info(
        "Taking Icecast sources on %s:%s, Shoutcast on %s", host, port, port + 1
    )
    for server in servers:
        shutdown.on_stop_listening(server.close)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def start() -> asyncio.Task | None:
    """Open this process's source ports on the running loop, if enabled."""
    if not settings.RADIO_SOURCE_PORT:
        return None
    return run_in_background(_run())
