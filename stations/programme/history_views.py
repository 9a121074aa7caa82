"""The play history's pages: a station's plays by day, and their CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from stations.access import amanaged_station
from stations.models import Station
from stations.selectors import station_managed_by

from .export import ExportRangeError, csv_lines, export_filename, export_range
from .plays import play_days, station_history_page

# CSV lines sent in one piece of the streamed response.
EXPORT_LINES_PER_CHUNK = 500


def history(request: HttpRequest, slug: str) -> HttpResponse:
    """What the station played, newest first, by day in its time zone.

    Template: ``programme/history.html``; context: ``station``, ``page``,
    ``days`` (``PlayDay``s of the page), ``may_export``.
    """
    station = get_object_or_404(Station, slug=slug)
    page = station_history_page(station, request.GET.get("page"))
    context = {
        "station": station,
        "page": page,
        "days": play_days(list(page), station.zone),
        "may_export": station_managed_by(station, request.user),
    }
    return render(request, "programme/history.html", context)


@login_required
async def history_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The plays of ``from`` to ``to`` (station days) as CSV, streamed; for
    staff and the station's DJs."""
    station = await amanaged_station(
        request, slug, "Only staff and this station's DJs may export."
    )
    try:
        first, last = export_range(
            request.GET, timezone.now().astimezone(station.zone).date()
        )
    except ExportRangeError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    response = StreamingHttpResponse(
        in_chunks(csv_lines(station, first, last)),
        content_type="text/csv; charset=utf-8",
    )
    filename = export_filename(station, first, last)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


async def in_chunks(lines: Iterator[str]) -> AsyncIterator[str]:
    """``lines`` joined in pieces, read from the database in one thread off
    the event loop (Django would read a sync iterator whole first)."""
    read = sync_to_async(lambda: "".join(islice(lines, EXPORT_LINES_PER_CHUNK)))
    while chunk := await read():
        yield chunk
