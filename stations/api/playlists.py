"""``/listen/<slug>.m3u`` and ``.pls``: playlist files that point players at
the station's ``stream.mp3``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from stations.models import Station
from stations.streams import stream_path


def _stream_url(request: HttpRequest, station: Station) -> str:
    return request.build_absolute_uri(stream_path(station.slug))


def m3u(request: HttpRequest, slug: str) -> HttpResponse:
    """An M3U playlist with the station's stream."""
    station = get_object_or_404(Station, slug=slug)
    name, url = _one_line(station.name), _stream_url(request, station)
    body = f"#EXTM3U\n#EXTINF:-1,{name}\n{url}\n"
    return _playlist(body, "audio/x-mpegurl", f"{station.slug}.m3u")


def pls(request: HttpRequest, slug: str) -> HttpResponse:
    """A PLS playlist with the station's stream."""
    station = get_object_or_404(Station, slug=slug)
    body = (
        "[playlist]\n"
        f"File1={_stream_url(request, station)}\n"
        f"Title1={_one_line(station.name)}\n"
        "Length1=-1\n"
        "NumberOfEntries=1\n"
        "Version=2\n"
    )
    return _playlist(body, "audio/x-scpls", f"{station.slug}.pls")


def _one_line(text: str) -> str:
    # A line break in a name would start a new entry of the file.
    return " ".join(text.split())


def _playlist(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
