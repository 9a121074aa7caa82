"""Closing a source's socket, whatever state the client left it in."""

from __future__ import annotations

import asyncio
import errno

from stations.sources.server import _close


class GoneWriter:
    """A stream writer whose client went away before the server closed it."""

    def __init__(self) -> None:
        self.closed = False

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")


async def test_a_client_that_is_gone_is_closed_without_an_error():
    writer = GoneWriter()

    await _close(asyncio.StreamReader(), writer)

    assert writer.closed
