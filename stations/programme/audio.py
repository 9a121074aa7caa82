"""An episode's audio over HTTP, seekable: byte ranges answered with
``206 Partial Content`` by Django, or by nginx through ``X-Accel-Redirect``
when RADIO_RECORDINGS_ACCEL_REDIRECT names its internal location.

Django streams the file from an async iterator, in chunks read in a thread:
under ASGI a synchronous iterator (``FileResponse``'s) would be read whole
into memory first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from werkzeug.http import parse_range_header

from .models import Episode

MIME_TYPE = "audio/mpeg"
# How much of the file is read at a time, in bytes.
CHUNK_BYTES = 64 * 1024


def episode_audio_response(request: HttpRequest, episode: Episode) -> HttpResponse:
    """The episode's file, whole or the one byte range the request asks for."""
    if settings.RADIO_RECORDINGS_ACCEL_REDIRECT:
        return _accel_redirect(episode)
    path = Path(episode.file.path)
    size = path.stat().st_size
    wanted = parse_range_header(request.headers.get("Range"))
    # Several ranges, or another unit, are answered with the whole file, as
    # RFC 9110 allows.
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return _audio(request, path, start=0, length=size, status=200)
    span = wanted.range_for_length(size)
    if span is None:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, stop = span
    response = _audio(request, path, start=start, length=stop - start, status=206)
    response["Content-Range"] = wanted.to_content_range_header(size)
    return response


def _audio(
    request: HttpRequest, path: Path, *, start: int, length: int, status: int
) -> HttpResponse:
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=MIME_TYPE)
    else:
        response = StreamingHttpResponse(
            file_chunks(path, start=start, length=length),
            status=status,
            content_type=MIME_TYPE,
        )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    return response


async def file_chunks(path: Path, *, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of the file from ``start``, read off the event loop."""
    file = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(file.seek, start)
        while length > 0:
            chunk = await asyncio.to_thread(file.read, min(CHUNK_BYTES, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(file.close)


def _accel_redirect(episode: Episode) -> HttpResponse:
    """nginx sends the file, ranges and all, from its internal location."""
    response = HttpResponse(content_type=MIME_TYPE)
    location = settings.RADIO_RECORDINGS_ACCEL_REDIRECT.rstrip("/")
    response["X-Accel-Redirect"] = f"{location}/{quote(episode.file.name)}"
    return response
