"""The DJ console's library endpoints: JSON in, JSON out.

Every answer is JSON, errors included (``{"error": "..."}``), and only the
station's DJs get anything but 403. The views check CSRF themselves instead
of leaving it to the middleware: the middleware parses a multipart body in
full before any view runs, and an upload over the size limit is refused by
its Content-Length before it is parsed. Under daphne the body has been
received by then (Twisted buffers it); only a proxy's limit, such as
nginx's ``client_max_body_size``, stops it on the wire.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.views.decorators.csrf import csrf_exempt

from stations.files import DiskFull
from stations.models import Station
from stations.selectors import station_get, station_has_dj

from .analysis import BYTES_PER_MB, FileTooBig, UnusableAudio
from .selectors import library_document, station_track, track_as_dict
from .services import (
    LibraryMismatch,
    library_reorder,
    library_settings_update,
    track_add,
    track_delete,
)

# The largest JSON body taken, in bytes: the ids of thousands of tracks.
MAX_JSON_BYTES = 256 * 1024
# Room for the multipart envelope around an uploaded file, in bytes.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

logger = logging.getLogger(__name__)

_csrf = CsrfViewMiddleware(lambda request: None)


class Refusal(Exception):
    """Answer the request with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def dj_endpoint(*methods: str) -> Callable[..., Callable[..., JsonResponse]]:
    """Let only ``methods`` and the station's DJs through; pass the station on."""

    def decorator(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @csrf_exempt  # checked by the view: see the module docstring
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, **kwargs: Any) -> JsonResponse:
            try:
                if request.method not in methods:
                    raise Refusal(405, f"Use {' or '.join(methods)}.")
                station = station_get(slug)
                if station is None:
                    raise Refusal(404, "No such station.")
                if not station_has_dj(station, request.user):
                    raise Refusal(403, "Only this station's DJs may use its library.")
                return view(request, station, **kwargs)
            except Refusal as refusal:
                response = JsonResponse({"error": str(refusal)}, status=refusal.status)
                if refusal.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorator


@dj_endpoint("GET", "POST")
def library(request: HttpRequest, station: Station) -> JsonResponse:
    """GET: the library document. POST: add the multipart field ``file``."""
    if request.method == "GET":
        get_token(request)  # sets the CSRF cookie that the POSTs need
        return JsonResponse(library_document(station))
    return _upload(request, station)


def _upload(request: HttpRequest, station: Station) -> JsonResponse:
    max_mb = settings.RADIO_MAX_UPLOAD_MB
    if _content_length(request) > max_mb * BYTES_PER_MB + MULTIPART_OVERHEAD_BYTES:
        raise Refusal(413, f"Files may be at most {max_mb} MB.")
    try:
        _check_csrf(request)
        upload = request.FILES.get("file")
    except MultiPartParserError:
        raise Refusal(400, "Send the file as multipart/form-data.") from None
    if upload is None:
        raise Refusal(400, "Send the audio file in the multipart field “file”.")
    try:
        track = track_add(station=station, upload=upload)
    except FileTooBig as problem:
        raise Refusal(413, str(problem)) from None
    except UnusableAudio as problem:
        raise Refusal(400, str(problem)) from None
    except DiskFull:
        logger.error("No room in MEDIA_ROOT for a track of %s", station.slug)
        raise Refusal(
            507, "The server has no room for the file just now; nothing was added."
        ) from None
    return JsonResponse(track_as_dict(track), status=201)


@dj_endpoint("POST")
def order(request: HttpRequest, station: Station) -> JsonResponse:
    """Put the playlist in the order of ``{"track_ids": [...]}``."""
    _check_csrf(request)
    track_ids = _json_object(request).get("track_ids")
    if not isinstance(track_ids, list) or not all(map(_is_int, track_ids)):
        raise Refusal(400, "track_ids must be a list of track ids.")
    try:
        library_reorder(station=station, track_ids=track_ids)
    except LibraryMismatch as problem:
        raise Refusal(400, str(problem)) from None
    return JsonResponse(library_document(station))


@dj_endpoint("POST")
def playout_settings(request: HttpRequest, station: Station) -> JsonResponse:
    """Change ``{"shuffle": bool, "crossfade_ms": int}``, either key optional."""
    _check_csrf(request)
    changes = _json_object(request)
    unknown = sorted(changes.keys() - {"shuffle", "crossfade_ms"})
    if unknown:
        raise Refusal(400, f"Unknown settings: {', '.join(unknown)}.")
    if not isinstance(changes.get("shuffle", False), bool):
        raise Refusal(400, "shuffle must be true or false.")
    if not _is_int(changes.get("crossfade_ms", 0)):
        raise Refusal(400, "crossfade_ms must be a whole number of milliseconds.")
    try:
        library_settings_update(station=station, **changes)
    except ValidationError as problem:
        raise Refusal(400, _validation_text(problem)) from None
    return JsonResponse(library_document(station))


@dj_endpoint("POST")
def delete(request: HttpRequest, station: Station, track_id: int) -> JsonResponse:
    """Remove a track from the library, and its file from disk."""
    _check_csrf(request)
    track = station_track(station, track_id)
    if track is None:
        raise Refusal(404, "This station has no such track.")
    track_delete(track=track)
    return JsonResponse(library_document(station))


def _check_csrf(request: HttpRequest) -> None:
    if _csrf.process_view(request, None, (), {}) is not None:
        raise Refusal(
            403,
            "CSRF check failed: send the csrftoken cookie in the X-CSRFToken header.",
        )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _json_object(request: HttpRequest) -> dict[str, Any]:
    if _content_length(request) > MAX_JSON_BYTES or len(request.body) > MAX_JSON_BYTES:
        raise Refusal(413, f"The body may be at most {MAX_JSON_BYTES} bytes.")
    try:
        data = json.loads(request.body)
    except ValueError:
        raise Refusal(400, "The body must be JSON.") from None
    if not isinstance(data, dict):
        raise Refusal(400, "The body must be a JSON object.")
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validation_text(problem: ValidationError) -> str:
    return " ".join(
        f"{field}: {' '.join(messages)}"
        for field, messages in problem.message_dict.items()
    )
