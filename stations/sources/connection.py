"""A client of a source port, and the gate that counts the unauthenticated."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass

# The PROXY protocol's (v1) header line is at most this long.
MAX_PROXY_LINE_BYTES = 107


class BadProxyLine(ValueError):
    """A connection from the proxy did not start with a PROXY line."""


def parse_proxy_line(line: bytes) -> str | None:
    """The client's address from a PROXY protocol v1 line (nginx's
    ``proxy_protocol on``); None for ``PROXY UNKNOWN``.
    """
    parts = line.rstrip(b"\r\n").decode("ascii", "replace").split(" ")
    if len(line) > MAX_PROXY_LINE_BYTES or parts[0] != "PROXY":
        raise BadProxyLine("The connection did not start with a PROXY line.")
    if parts[1:2] == ["UNKNOWN"]:
        return None
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise BadProxyLine("The PROXY line is malformed.")
    try:
        return str(ipaddress.ip_address(parts[2]))
    except ValueError:
        raise BadProxyLine("The PROXY line's address is not an address.") from None


class Gate:
    """Counts the sockets not authenticated yet, up to ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pending = 0

    def admit(self) -> bool:
        if self.pending >= self.limit:
            return False
        self.pending += 1
        return True

    def leave(self) -> None:
        self.pending -= 1


@dataclass
class Connection:
    """One client of a source port."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    address: str
    gate: Gate
    pending: bool = True

    def authenticated(self) -> None:
        """The client logged in: it no longer counts against the gate."""
        if self.pending:
            self.pending = False
            self.gate.leave()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()
