"""Icecast's source protocol: ``PUT`` (Icecast 2.4+) or ``SOURCE`` to a mount.

What each client needs back is in docs/PROTOCOL.md, "Icecast and Shoutcast
sources": libshout probes without credentials and reads ``Allow`` from the
401; BUTT retries a 403 and stops on a 401; ffmpeg and Liquidsoap's PUT
wait for ``100 Continue``.
"""

from __future__ import annotations

import logging

from django.conf import settings

from stations.programme.slot_rules import OutsideSlot
from stations.streaming.bus import BusUnavailable
from stations.streaming.transcoder import TranscoderError

from .auth import CHALLENGE, SourceRefused, aauthorize_source, parse_basic_auth
from .connection import Connection
from .head import (
    ALLOW,
    BadHead,
    RequestHead,
    error_response,
    read_body,
    read_head,
    response,
)
from .metadata import ICECAST_PATH, SHOUTCAST_PATH, answer_admin_request, mount_slug
from .session import carry, go_live, on_air_from_headers

logger = logging.getLogger(__name__)

SOURCE_METHODS = {"PUT", "SOURCE"}
ADMIN_PATHS = {ICECAST_PATH, SHOUTCAST_PATH}
# Read from a source's socket at most this much at a time.
READ_CHUNK_BYTES = 16 * 1024
# libshout reads Allow from the 401 to choose PUT over SOURCE.
AUTH_HEADERS = (CHALLENGE, ("Allow", ALLOW))


async def serve_icecast(
    connection: Connection, request_line: str | None = None
) -> None:
    """A request on the Icecast port, or an HTTP one on the Shoutcast port
    whose ``request_line`` was read already."""
    try:
        head = await read_head(
            connection.reader,
            timeout_s=settings.RADIO_SOURCE_HEADER_TIMEOUT_SECONDS,
            request_line=request_line,
        )
    except BadHead as bad:
        await connection.send(error_response(bad.status, bad.reason))
        return
    if head.method in SOURCE_METHODS:
        await serve_source(connection, head)
    elif head.method == "GET" and head.path in ADMIN_PATHS:
        await serve_admin(connection, head)
    else:
        await connection.send(
            error_response(
                405,
                "This port takes sources (PUT or SOURCE).",
                headers=(("Allow", ALLOW),),
            )
        )


async def serve_admin(connection: Connection, head: RequestHead) -> None:
    answer = await answer_admin_request(
        path=head.path,
        query=head.query,
        authorization=head.header("authorization"),
        address=connection.address,
    )
    await connection.send(
        response(
            answer.status,
            headers=answer.headers,
            body=answer.body,
            content_type=answer.content_type,
        )
    )


async def serve_source(connection: Connection, head: RequestHead) -> None:
    try:
        account = await aauthorize_source(
            slug=mount_slug(head.path),
            credentials=parse_basic_auth(head.header("authorization")),
            address=connection.address,
        )
    except SourceRefused as refused:
        headers = AUTH_HEADERS if refused.status == 401 else ()
        await connection.send(
            error_response(refused.status, refused.reason, headers=headers)
        )
        return
    connection.authenticated()
    try:
        broadcast = await go_live(
            account,
            declared_mime=head.header("content-type") or "",
            on_air=on_air_from_headers(account, head.headers),
            on_lost=lambda reason: connection.close(),
        )
    except OutsideSlot as refusal:
        await connection.send(error_response(403, str(refusal)))
        return
    except TranscoderError as problem:
        logger.error("Could not take a source on %s: %s", head.path, problem)
        await connection.send(error_response(500, "The server cannot take audio now."))
        return
    except BusUnavailable:
        await connection.send(error_response(503, "The server cannot go live now."))
        return
    if broadcast is None:
        await connection.send(error_response(403, "Mountpoint in use"))
        return
    if (head.header("expect") or "").lower() == "100-continue":
        await connection.send(b"HTTP/1.1 100 Continue\r\n\r\n")
    await connection.send(response(200))
    logger.info(
        "%s is live on %s from %s", account.username, head.path, connection.address
    )
    body = read_body(connection.reader, head.headers, chunk_bytes=READ_CHUNK_BYTES)
    await carry(broadcast, body, mount=head.path)
