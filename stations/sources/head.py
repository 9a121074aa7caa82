"""The head of a source client's request, and the answers it gets.

Source clients speak a small, old dialect of HTTP (libshout, BUTT, ffmpeg,
Liquidsoap): a request line, headers, then an endless body. Only the head
is read here, under a size cap and a time limit, so that a slow or silent
socket cannot hold a slot for long (Icecast's ``header-timeout``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

# Request line and headers together, as Icecast caps them.
MAX_HEAD_BYTES = 8 * 1024
# The most a chunked body's chunk-size line may hold.
MAX_CHUNK_LINE_BYTES = 64

# Icecast's wording, which some clients match.
REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    401: "Authentication Required",
    403: "Forbidden",
    404: "File Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
# What a source port takes; libshout reads it from a 401 to choose PUT.
ALLOW = "GET, PUT, OPTIONS, SOURCE"


class BadHead(Exception):
    """The request head cannot be read; ``status`` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class RequestHead:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return unquote_to_bytes(self.target.partition("?")[0]).decode("latin-1")

    @property
    def query(self) -> bytes:
        """The query string as sent: percent-encoded bytes, not yet decoded."""
        return self.target.partition("?")[2].encode("latin-1")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


async def read_lines(
    reader: asyncio.StreamReader, *, max_bytes: int = MAX_HEAD_BYTES
) -> list[str]:
    """Lines up to the first empty one, all together at most ``max_bytes``.

    Raises BadHead (431) over the cap and (400) if the socket ends first.
    Header bytes are read as Latin-1, as HTTP/1.0 has them.
    """
    lines: list[str] = []
    read = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise BadHead(400, "The request ended before its headers did.") from None
        except asyncio.LimitOverrunError:
            raise BadHead(431, "The request's headers are too long.") from None
        read += len(line)
        if read > max_bytes:
            raise BadHead(431, "The request's headers are too long.")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return lines
        lines.append(text)


def parse_headers(lines: list[str]) -> dict[str, str]:
    """``Name: value`` lines by lower-case name; raises BadHead (400)."""
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadHead(400, "A header line has no name.")
        headers[name.strip().lower()] = value.strip()
    return headers


async def read_head(
    reader: asyncio.StreamReader, *, timeout_s: float, request_line: str | None = None
) -> RequestHead:
    """The request line and headers; BadHead if they are bad, late or huge.

    ``request_line`` is the first line, if the caller has read it already.
    """
    try:
        async with asyncio.timeout(timeout_s):
            lines = await read_lines(reader)
        if request_line is not None:
            lines.insert(0, request_line)
    except TimeoutError:
        raise BadHead(408, "The request's headers took too long.") from None
    if not lines:
        raise BadHead(400, "The request is empty.")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith(("HTTP/", "ICE/")):
        raise BadHead(400, "The request line is not METHOD TARGET HTTP/x.")
    method, target, _version = parts
    return RequestHead(method.upper(), target, parse_headers(lines[1:]))


def response(
    status: int,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    """A whole HTTP/1.0 response; the connection closes after it."""
    lines = [f"HTTP/1.0 {status} {REASONS[status]}"]
    if body:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def error_response(
    status: int, reason: str, *, headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    return response(status, headers=headers, body=f"{reason}\n".encode())


async def read_body(
    reader: asyncio.StreamReader, headers: Mapping[str, str], *, chunk_bytes: int
) -> AsyncIterator[bytes]:
    """The body as it arrives, plain or chunked, until it ends.

    ``headers`` are those of the request, by lower-case name.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        async for chunk in _read_chunked(reader, chunk_bytes=chunk_bytes):
            yield chunk
        return
    length = headers.get("content-length")
    remaining = int(length) if length and length.isdigit() else None
    while remaining is None or remaining > 0:
        wanted = chunk_bytes if remaining is None else min(chunk_bytes, remaining)
        data = await reader.read(wanted)
        if not data:
            return
        if remaining is not None:
            remaining -= len(data)
        yield data


async def _read_chunked(
    reader: asyncio.StreamReader, *, chunk_bytes: int
) -> AsyncIterator[bytes]:
    while True:
        size_line = await reader.readuntil(b"\n")
        if len(size_line) > MAX_CHUNK_LINE_BYTES:
            raise BadHead(400, "A chunk size line is too long.")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadHead(400, "A chunk size is not a hex number.") from None
        if size == 0:
            return
        while size > 0:
            data = await reader.readexactly(min(size, chunk_bytes))
            size -= len(data)
            yield data
        await reader.readuntil(b"\n")
