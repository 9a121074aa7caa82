"""Shoutcast v1 (ICY) sources, on the port after the Icecast one.

The client sends its password line (``password``, ``user:password`` or
``user:password:#slug``), waits for ``OK2``, then sends ``icy-*`` headers
and its audio on the same socket.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from stations.broadcasts import check_slot
from stations.programme.slot_rules import OutsideSlot
from stations.streaming.bus import BusUnavailable
from stations.streaming.transcoder import TranscoderError

from .auth import SourceRefused, aauthorize_source, parse_shoutcast_login
from .connection import Connection
from .head import (
    MAX_HEAD_BYTES,
    BadHead,
    parse_headers,
    read_body,
    read_lines,
)
from .icecast import serve_icecast
from .session import carry, go_live, on_air_from_headers

logger = logging.getLogger(__name__)

WELCOME = b"OK2\r\nicy-caps:11\r\n\r\n"
REFUSED = b"invalid password\r\n"
BUSY = b"Mountpoint in use\r\n"
READ_CHUNK_BYTES = 16 * 1024
# HTTP requests on this port: title updates, and probes of what it is.
HTTP_METHODS = (b"GET ", b"HEAD ", b"OPTIONS ")


async def serve_shoutcast(connection: Connection) -> None:
    timeout_s = settings.RADIO_SOURCE_HEADER_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout(timeout_s):
            login = await connection.reader.readuntil(b"\n")
    except (TimeoutError, asyncio.LimitOverrunError, asyncio.IncompleteReadError):
        return
    if login.startswith(HTTP_METHODS):
        # Title updates (/admin.cgi) and libshout's probes speak HTTP here.
        await serve_icecast(connection, login.decode("latin-1").rstrip("\r\n"))
        return
    if len(login) > MAX_HEAD_BYTES:
        await connection.send(REFUSED)
        return
    username, password, slug = parse_shoutcast_login(login)
    try:
        account = await aauthorize_source(
            slug=slug, credentials=(username, password), address=connection.address
        )
    except SourceRefused as refused:
        logger.info(
            "Shoutcast source from %s refused: %s", connection.address, refused.reason
        )
        await connection.send(REFUSED)
        return
    connection.authenticated()
    try:
        await check_slot(account.station, user_id=account.lease_user_id)
    except OutsideSlot as refusal:
        # Instead of OK2: encoders show the server's answer, or a failure.
        line = "".join(c for c in str(refusal) if c.isprintable())
        await connection.send(f"{line}\r\n".encode())
        return
    await connection.send(WELCOME)
    try:
        async with asyncio.timeout(timeout_s):
            headers = parse_headers(await read_lines(connection.reader))
    except (TimeoutError, BadHead):
        return
    mount = f"/{account.station.slug}"
    try:
        broadcast = await go_live(
            account,
            declared_mime=headers.get("content-type", ""),
            on_air=on_air_from_headers(account, headers),
            on_lost=lambda reason: connection.close(),
        )
    except OutsideSlot as refusal:
        logger.info("Shoutcast source on %s refused: %s", mount, refusal)
        return
    except TranscoderError as problem:
        logger.error("Could not take a Shoutcast source on %s: %s", mount, problem)
        return
    except BusUnavailable:
        # Shoutcast v1 has no way to say why; the encoder retries.
        return
    if broadcast is None:
        await connection.send(BUSY)
        return
    logger.info(
        "%s is live on %s (Shoutcast) from %s",
        account.username,
        mount,
        connection.address,
    )
    audio = read_body(connection.reader, headers, chunk_bytes=READ_CHUNK_BYTES)
    await carry(broadcast, audio, mount=mount)
